package dev.edgekit.demo

import android.content.res.AssetFileDescriptor
import android.content.res.AssetManager
import dev.edgekit.core.Bundle
import dev.edgekit.core.BundleException
import dev.edgekit.core.BundleSource
import dev.edgekit.core.EvalSet
import dev.edgekit.core.Json
import dev.edgekit.core.ResultRecord
import java.io.FileNotFoundException
import java.io.IOException
import java.io.InputStream

/** A bundle folder inside the APK's assets (e.g. "bundle" or "bundles/student_2l"). */
class AssetBundleSource(private val assets: AssetManager, val root: String) : BundleSource {
    override fun open(name: String): InputStream = assets.open("$root/$name")

    override fun describe(): String = "assets/$root"

    /** An uncompressed asset's (the .tflite files') length from its descriptor; others are counted by reading. */
    override fun size(name: String): Long {
        val length = try {
            assets.openFd("$root/$name").use { it.length }
        } catch (e: IOException) { // compressed: no descriptor
            AssetFileDescriptor.UNKNOWN_LENGTH
        }
        return if (length >= 0) length else super.size(name)
    }

    /** The asset path of a file of this bundle, as LiteRT's CompiledModel.create wants it. */
    fun assetPath(name: String): String = "$root/$name"
}

/** A loaded bundle plus where it lives in the assets. */
class BundleEntry(val source: AssetBundleSource, val bundle: Bundle) {
    val name: String get() = bundle.manifest.modelName
    override fun toString(): String = "$name (${bundle.manifest.family})"
}

/** The eval set and what the record says about it (from eval.jsonl + eval.meta.json). */
class EvalAssets(val eval: EvalSet, val dataset: ResultRecord.DatasetInfo, val edgekit: ResultRecord.EdgekitInfo,
                 val hashNote: String?)

object AssetBundles {
    const val BUNDLE = "bundle"
    const val EXTRA_BUNDLES = "bundles"
    const val EVAL = "eval.jsonl"
    const val EVAL_META = "eval.meta.json"

    /** Every bundle in the assets: bundle/ first, then bundles/<name>/ in name order. */
    @Throws(BundleException::class)
    fun list(assets: AssetManager): List<BundleEntry> {
        val roots = mutableListOf<String>()
        if (hasManifest(assets, BUNDLE)) roots += BUNDLE
        val extra = try {
            assets.list(EXTRA_BUNDLES)
        } catch (e: IOException) {
            null
        }
        extra.orEmpty().sorted().forEach { name ->
            if (hasManifest(assets, "$EXTRA_BUNDLES/$name")) roots += "$EXTRA_BUNDLES/$name"
        }
        return roots.map { root ->
            val source = AssetBundleSource(assets, root)
            BundleEntry(source, Bundle.load(source))
        }
    }

    private fun hasManifest(assets: AssetManager, dir: String): Boolean =
        try {
            assets.list(dir)?.contains(Bundle.MANIFEST) == true
        } catch (e: IOException) {
            false
        }

    /** Reads the eval set against the bundle's labels; checks its hash against the metadata. */
    @Throws(BundleException::class)
    fun loadEval(assets: AssetManager, labels: List<String>): EvalAssets {
        val text = try {
            assets.open(EVAL).bufferedReader(Charsets.UTF_8).use { it.readText() }
        } catch (e: FileNotFoundException) {
            throw BundleException("no assets/$EVAL: run `edgekit android-assets BUNDLE --eval FILE`, then rebuild")
        } catch (e: IOException) {
            throw BundleException("cannot read assets/$EVAL: ${e.message}", e)
        }
        val eval = EvalSet.parseJsonl(text, labels, "assets/$EVAL")
        val dataset = ResultRecord.DatasetInfo()
        val edgekit = ResultRecord.EdgekitInfo()
        dataset.sha256 = eval.sha256()
        var note: String? = null
        val meta: Map<String, Any?>? = try {
            Json.parseObject(assets.open(EVAL_META).bufferedReader(Charsets.UTF_8).use { it.readText() })
        } catch (e: IOException) {
            null
        } catch (e: Json.JsonException) {
            throw BundleException("assets/$EVAL_META: ${e.message}")
        }
        if (meta != null) {
            (meta["name"] as? String)?.let { dataset.name = it }
            (meta["split"] as? String)?.let { dataset.split = it }
            meta["subset"]?.let { dataset.extra["subset"] = it }
            dataset.extra["n"] = eval.size()
            val expected = meta["sha256"] as? String
            if (expected != null && expected != dataset.sha256) {
                note = "eval.jsonl hash differs from eval.meta.json (edited by hand?)"
            }
            (Json.path(meta, "edgekit.version") as? String)?.let { edgekit.version = it }
            (Json.path(meta, "edgekit.git_commit") as? String)?.let { edgekit.gitCommit = it }
        } else {
            note = "no assets/$EVAL_META: dataset name/split unknown"
        }
        return EvalAssets(eval, dataset, edgekit, note)
    }
}
