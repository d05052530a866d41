package dev.edgekit.demo

import android.content.res.AssetManager
import com.google.ai.edge.litert.Accelerator
import com.google.ai.edge.litert.CompiledModel
import com.google.ai.edge.litert.TensorBuffer
import dev.edgekit.core.Manifest
import dev.edgekit.core.ModelRunner

/**
 * The only class that touches LiteRT: runs one signature (length bucket) of a bundle's .tflite
 * with the CompiledModel API on the CPU (XNNPACK) with a fixed number of threads.
 *
 * Inputs are bound by name (ids, mask, segment_ids) and the output by the manifest's output
 * name, so the converter's tensor order does not matter. Buffers are created once per signature
 * and reused. Not thread-safe: the app calls it from one executor thread.
 */
class LiteRtModelRunner private constructor(
    private val model: CompiledModel,
    private val outputName: String,
) : ModelRunner {

    private class Buffers(val inputs: Map<String, TensorBuffer>, val outputs: Map<String, TensorBuffer>)

    private val buffers = HashMap<String, Buffers>()
    private var closed = false

    override fun run(signature: String, ids: IntArray, mask: IntArray, segmentIds: IntArray): FloatArray {
        check(!closed) { "model is closed" }
        val b = buffers.getOrPut(signature) {
            Buffers(
                inputs = linkedMapOf(
                    "ids" to model.createInputBuffer("ids", signature),
                    "mask" to model.createInputBuffer("mask", signature),
                    "segment_ids" to model.createInputBuffer("segment_ids", signature),
                ),
                outputs = mapOf(outputName to model.createOutputBuffer(outputName, signature)),
            )
        }
        b.inputs.getValue("ids").writeInt(ids)
        b.inputs.getValue("mask").writeInt(mask)
        b.inputs.getValue("segment_ids").writeInt(segmentIds)
        model.run(b.inputs, b.outputs, signature)
        return b.outputs.getValue(outputName).readFloat()
    }

    override fun close() {
        if (closed) return
        closed = true
        for (b in buffers.values) {
            b.inputs.values.forEach { it.close() }
            b.outputs.values.forEach { it.close() }
        }
        buffers.clear()
        model.close()
    }

    companion object {
        /** Opens [mode]'s file from the assets (stored uncompressed, see app/build.gradle.kts). */
        fun open(assets: AssetManager, source: AssetBundleSource, mode: Manifest.Mode, outputName: String,
                 threads: Int): LiteRtModelRunner {
            val options = CompiledModel.Options(Accelerator.CPU)
            options.cpuOptions = CompiledModel.CpuOptions(numThreads = threads)
            val model = CompiledModel.create(assets, source.assetPath(mode.file), options)
            return LiteRtModelRunner(model, outputName)
        }
    }
}
