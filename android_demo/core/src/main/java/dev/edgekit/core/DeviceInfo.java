package dev.edgekit.core;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code device} block of the result record. The app fills it from {@code Build},
 * {@code os.arch}, {@code /proc/cpuinfo}; the parsing helpers live here so they are tested.
 */
public final class DeviceInfo {
    public String arch = System.getProperty("os.arch", "unknown");
    public String cpuModel = "unknown";
    public String os = "unknown";
    public int cores = Runtime.getRuntime().availableProcessors();
    public String runtimeName = "litert-android";
    public String runtimeVersion = "unknown";
    public String target = "android";
    public boolean emulated = false;
    /** Extra descriptive fields (manufacturer, model, sdk_int, abi, ...), kept in order. */
    public final Map<String, Object> extra = new LinkedHashMap<>();

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("arch", arch);
        m.put("cpu_model", cpuModel);
        m.put("os", os);
        m.put("cores", cores);
        Map<String, Object> rt = new LinkedHashMap<>();
        rt.put("name", runtimeName);
        rt.put("version", runtimeVersion);
        m.put("runtime", rt);
        m.put("target", target);
        m.put("emulated", emulated);
        m.putAll(extra);
        return m;
    }

    /**
     * A CPU description from {@code /proc/cpuinfo}: "Hardware" (older ARM kernels), else
     * "model name", else "Processor", else the implementer/part of the first core.
     */
    public static String cpuModelFromCpuinfo(String cpuinfo) {
        String hardware = null, modelName = null, processor = null, implementer = null, part = null;
        for (String line : cpuinfo.split("\n")) {
            int colon = line.indexOf(':');
            if (colon < 0) continue;
            String key = line.substring(0, colon).trim();
            String value = line.substring(colon + 1).trim();
            if (value.isEmpty()) continue;
            if (key.equals("Hardware") && hardware == null) hardware = value;
            else if (key.equals("model name") && modelName == null) modelName = value;
            else if (key.equals("Processor") && processor == null) processor = value;
            else if (key.equals("CPU implementer") && implementer == null) implementer = value;
            else if (key.equals("CPU part") && part == null) part = value;
        }
        if (hardware != null) return hardware;
        if (modelName != null) return modelName;
        if (processor != null) return processor;
        if (implementer != null && part != null) return "implementer " + implementer + " part " + part;
        return "unknown";
    }

    /** Peak resident set size in MiB from {@code /proc/self/status} (VmHWM, kB); -1 if absent. */
    public static double peakRssMbFromStatus(String status) {
        for (String line : status.split("\n")) {
            if (line.startsWith("VmHWM:")) {
                String[] parts = line.substring(6).trim().split("\\s+");
                try {
                    return Long.parseLong(parts[0]) / 1024.0;
                } catch (NumberFormatException e) {
                    return -1;
                }
            }
        }
        return -1;
    }
}
