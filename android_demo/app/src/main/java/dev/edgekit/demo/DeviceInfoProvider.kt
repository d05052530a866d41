package dev.edgekit.demo

import android.os.Build
import dev.edgekit.core.DeviceInfo
import java.io.File

/** Fills the result record's device block on a phone. */
object DeviceInfoProvider {
    fun collect(): DeviceInfo {
        val info = DeviceInfo()
        info.arch = System.getProperty("os.arch") ?: Build.SUPPORTED_ABIS.firstOrNull() ?: "unknown"
        info.cpuModel = cpuModel()
        info.os = "Android ${Build.VERSION.RELEASE} (API ${Build.VERSION.SDK_INT})"
        info.cores = Runtime.getRuntime().availableProcessors()
        info.runtimeName = "litert-android"
        info.runtimeVersion = BuildConfig.LITERT_VERSION
        info.target = "android"
        info.emulated = isEmulator()
        info.extra["manufacturer"] = Build.MANUFACTURER
        info.extra["model"] = Build.MODEL
        info.extra["device"] = Build.DEVICE
        info.extra["sdk_int"] = Build.VERSION.SDK_INT
        info.extra["abis"] = Build.SUPPORTED_ABIS.toList()
        info.extra["app_version"] = BuildConfig.VERSION_NAME
        info.extra["build_type"] = BuildConfig.BUILD_TYPE
        return info
    }

    private fun cpuModel(): String {
        if (Build.VERSION.SDK_INT >= 31 && Build.SOC_MODEL != Build.UNKNOWN) {
            return "${Build.SOC_MANUFACTURER} ${Build.SOC_MODEL}"
        }
        val fromProc = try {
            DeviceInfo.cpuModelFromCpuinfo(File("/proc/cpuinfo").readText())
        } catch (e: Exception) {
            "unknown"
        }
        return if (fromProc != "unknown") fromProc else Build.HARDWARE
    }

    /** An Android emulator: the record must say so (its timings are not phone timings). */
    private fun isEmulator(): Boolean =
        Build.FINGERPRINT.startsWith("generic") || Build.FINGERPRINT.contains("emulator") ||
            Build.HARDWARE.contains("ranchu") || Build.HARDWARE.contains("goldfish") ||
            Build.PRODUCT.contains("sdk_gphone") || Build.MODEL.contains("Android SDK built for")

    /** Peak resident set size of this process in MiB (VmHWM), or -1. */
    fun peakRssMb(): Double = try {
        DeviceInfo.peakRssMbFromStatus(File("/proc/self/status").readText())
    } catch (e: Exception) {
        -1.0
    }
}
