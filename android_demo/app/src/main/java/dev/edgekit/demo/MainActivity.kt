package dev.edgekit.demo

import android.content.Intent
import android.os.Bundle
import android.view.View
import android.widget.AdapterView
import android.widget.ArrayAdapter
import android.widget.LinearLayout
import android.widget.ProgressBar
import android.widget.Spinner
import android.widget.TextView
import androidx.appcompat.app.AppCompatActivity
import androidx.core.content.FileProvider
import com.google.android.material.bottomnavigation.BottomNavigationView
import com.google.android.material.button.MaterialButton
import com.google.android.material.progressindicator.LinearProgressIndicator
import dev.edgekit.core.Benchmark
import dev.edgekit.core.Clock
import dev.edgekit.core.Json
import dev.edgekit.core.ModelRunner
import dev.edgekit.core.ResultRecord
import dev.edgekit.core.TextClassifier
import java.io.File
import java.util.Locale
import java.util.concurrent.CancellationException
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors
import java.util.concurrent.atomic.AtomicBoolean

/**
 * Two screens over one bundle picker: Classify (a sentence → label, confidence bars, timings,
 * bucket) and Benchmark (the bundled eval set → latency percentiles, accuracy, macro-F1, result
 * record JSON, share). All logic is in the plain-Java core (dev.edgekit.core); this class wires
 * views and runs model work on a single background thread.
 */
class MainActivity : AppCompatActivity() {

    private val worker: ExecutorService = Executors.newSingleThreadExecutor()
    private val cancel = AtomicBoolean(false)

    // touched only on the worker thread
    private var classifier: TextClassifier? = null
    private var classifierKey: String? = null
    private var classifierLoadMs = 0.0

    private var bundles: List<BundleEntry> = emptyList()
    private var running = false
    private var lastResult: File? = null

    private lateinit var modelSpinner: Spinner
    private lateinit var modeSpinner: Spinner
    private lateinit var threadsSpinner: Spinner
    private lateinit var classifyPanel: View
    private lateinit var benchmarkPanel: View
    private lateinit var inputText: TextView
    private lateinit var classifyButton: MaterialButton
    private lateinit var resultLabel: TextView
    private lateinit var bars: LinearLayout
    private lateinit var classifyDetails: TextView
    private lateinit var evalInfo: TextView
    private lateinit var benchmarkButton: MaterialButton
    private lateinit var progress: LinearProgressIndicator
    private lateinit var benchmarkStatus: TextView
    private lateinit var benchmarkResults: TextView
    private lateinit var shareButton: MaterialButton

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContentView(R.layout.activity_main)
        modelSpinner = findViewById(R.id.model_spinner)
        modeSpinner = findViewById(R.id.mode_spinner)
        threadsSpinner = findViewById(R.id.threads_spinner)
        classifyPanel = findViewById(R.id.classify_panel)
        benchmarkPanel = findViewById(R.id.benchmark_panel)
        inputText = findViewById(R.id.input_text)
        classifyButton = findViewById(R.id.classify_button)
        resultLabel = findViewById(R.id.result_label)
        bars = findViewById(R.id.bars)
        classifyDetails = findViewById(R.id.classify_details)
        evalInfo = findViewById(R.id.eval_info)
        benchmarkButton = findViewById(R.id.benchmark_button)
        progress = findViewById(R.id.benchmark_progress)
        benchmarkStatus = findViewById(R.id.benchmark_status)
        benchmarkResults = findViewById(R.id.benchmark_results)
        shareButton = findViewById(R.id.share_button)

        findViewById<BottomNavigationView>(R.id.bottom_nav).setOnItemSelectedListener { item ->
            val classify = item.itemId == R.id.nav_classify
            classifyPanel.visibility = if (classify) View.VISIBLE else View.GONE
            benchmarkPanel.visibility = if (classify) View.GONE else View.VISIBLE
            true
        }
        classifyButton.setOnClickListener { classify() }
        benchmarkButton.setOnClickListener { if (running) cancel.set(true) else runBenchmark() }
        shareButton.setOnClickListener { lastResult?.let { share(it) } }

        val cores = Runtime.getRuntime().availableProcessors()
        val threadChoices = listOf(1, 2, 4, 8).filter { it <= maxOf(cores, 1) }
        threadsSpinner.adapter = ArrayAdapter(this, android.R.layout.simple_spinner_dropdown_item, threadChoices)

        setBusy(true)
        worker.execute {
            val loaded = try {
                Result.success(AssetBundles.list(assets))
            } catch (e: Exception) {
                Result.failure(e)
            }
            runOnUiThread { onBundlesLoaded(loaded) }
        }
    }

    override fun onDestroy() {
        cancel.set(true)
        worker.execute {
            classifier?.close()
            classifier = null
        }
        worker.shutdown()
        super.onDestroy()
    }

    // ------------------------------------------------------------------ pickers

    private fun onBundlesLoaded(loaded: Result<List<BundleEntry>>) {
        setBusy(false)
        loaded.exceptionOrNull()?.let { showError(it); return }
        bundles = loaded.getOrThrow()
        if (bundles.isEmpty()) {
            resultLabel.text = getString(R.string.no_bundle)
            classifyButton.isEnabled = false
            benchmarkButton.isEnabled = false
            return
        }
        modelSpinner.adapter = ArrayAdapter(this, android.R.layout.simple_spinner_dropdown_item, bundles)
        modelSpinner.onItemSelectedListener = object : AdapterView.OnItemSelectedListener {
            override fun onItemSelected(parent: AdapterView<*>?, view: View?, position: Int, id: Long) = onModelPicked()
            override fun onNothingSelected(parent: AdapterView<*>?) = Unit
        }
        onModelPicked()
    }

    private fun onModelPicked() {
        val entry = selectedBundle() ?: return
        val modes = entry.bundle.manifest.modeNames()
        modeSpinner.adapter = ArrayAdapter(this, android.R.layout.simple_spinner_dropdown_item, modes)
        // dynamic int8 is the usual phone choice: preselect it when the bundle has it
        modeSpinner.setSelection(maxOf(0, modes.indexOf("dynamic_int8")))
        val labels = entry.bundle.labels.joinToString(", ")
        evalInfo.text = getString(R.string.benchmark_idle) + "\n\nModel ${entry.name}: labels $labels; buckets " +
            entry.bundle.manifest.buckets.joinToString(", ") { it.length.toString() }
    }

    private fun selectedBundle(): BundleEntry? = bundles.getOrNull(modelSpinner.selectedItemPosition)
    private fun selectedMode(): String? = modeSpinner.selectedItem as? String
    private fun selectedThreads(): Int = (threadsSpinner.selectedItem as? Int) ?: 1

    private fun setBusy(busy: Boolean) {
        classifyButton.isEnabled = !busy
        modelSpinner.isEnabled = !busy
        modeSpinner.isEnabled = !busy
        threadsSpinner.isEnabled = !busy
        if (!running) benchmarkButton.isEnabled = !busy
    }

    private fun showError(e: Throwable) {
        val message = e.message ?: e.javaClass.simpleName
        resultLabel.text = getString(R.string.app_name) + ": error"
        classifyDetails.text = message
        benchmarkStatus.text = message
    }

    // ------------------------------------------------------------------ Classify

    private fun classify() {
        val entry = selectedBundle() ?: return
        val mode = selectedMode() ?: return
        val threads = selectedThreads()
        val text = inputText.text.toString()
        setBusy(true)
        worker.execute {
            val outcome = try {
                val c = classifierFor(entry, mode, threads)
                Result.success(c.classify(text) to classifierLoadMs)
            } catch (e: Exception) {
                Result.failure(e)
            }
            runOnUiThread {
                setBusy(false)
                outcome.fold({ (p, loadMs) -> showPrediction(entry, mode, threads, p, loadMs) }, { showError(it) })
            }
        }
    }

    /** The cached classifier for (bundle, mode, threads); opens a new one when they change. */
    private fun classifierFor(entry: BundleEntry, modeName: String, threads: Int): TextClassifier {
        val key = "${entry.source.root}|$modeName|$threads"
        classifier?.let { if (key == classifierKey) return it }
        classifier?.close()
        classifier = null
        val mode = entry.bundle.manifest.mode(modeName)
        entry.bundle.verify(modeName) // the mode file's size and sha256, before LiteRT reads it
        val t0 = System.nanoTime()
        val runner = LiteRtModelRunner.open(assets, entry.source, mode, entry.bundle.manifest.outputName, threads)
        classifierLoadMs = Clock.millisBetween(t0, System.nanoTime())
        return TextClassifier(entry.bundle, mode, runner).also {
            classifier = it
            classifierKey = key
        }
    }

    private fun showPrediction(entry: BundleEntry, mode: String, threads: Int, p: TextClassifier.Prediction,
                               loadMs: Double) {
        resultLabel.text = p.label
        bars.removeAllViews()
        val pad = (4 * resources.displayMetrics.density).toInt()
        entry.bundle.labels.forEachIndexed { i, label ->
            val row = LinearLayout(this).apply {
                orientation = LinearLayout.HORIZONTAL
                setPadding(0, pad, 0, pad)
            }
            val name = TextView(this).apply {
                text = label
                layoutParams = LinearLayout.LayoutParams(0, LinearLayout.LayoutParams.WRAP_CONTENT, 2f)
            }
            val bar = ProgressBar(this, null, android.R.attr.progressBarStyleHorizontal).apply {
                max = 1000
                progress = (p.probabilities[i] * 1000).toInt()
                layoutParams = LinearLayout.LayoutParams(0, LinearLayout.LayoutParams.WRAP_CONTENT, 5f)
            }
            val pct = TextView(this).apply {
                text = String.format(Locale.ROOT, "%5.1f %%", 100 * p.probabilities[i])
                textAlignment = View.TEXT_ALIGNMENT_VIEW_END
                layoutParams = LinearLayout.LayoutParams(0, LinearLayout.LayoutParams.WRAP_CONTENT, 2f)
            }
            row.addView(name)
            row.addView(bar)
            row.addView(pct)
            bars.addView(row)
        }
        val truncated = if (p.truncated()) " (truncated from ${p.numTokens})" else ""
        classifyDetails.text = String.format(
            Locale.ROOT,
            "model        %s / %s, %d thread(s)\ntokens       %d incl. [CLS]/[SEP]\nbucket       %s = %d%s\n" +
                "tokenization %.3f ms\ninference    %.3f ms\nmodel load   %.1f ms (once per model/mode/threads)",
            entry.name, mode, threads,
            p.numTokens, p.bucket.signature, p.bucket.length, truncated, p.tokenizeMs, p.inferenceMs, loadMs,
        )
    }

    // ------------------------------------------------------------------ Benchmark

    private fun runBenchmark() {
        val entry = selectedBundle() ?: return
        val mode = selectedMode() ?: return
        val threads = selectedThreads()
        cancel.set(false)
        running = true
        setBusy(true)
        benchmarkButton.text = getString(R.string.cancel)
        benchmarkButton.isEnabled = true
        shareButton.isEnabled = false
        progress.setProgressCompat(0, false)
        benchmarkResults.text = ""
        benchmarkStatus.text = "loading ${entry.name} / $mode …"
        worker.execute {
            // free the Classify model first: the benchmark opens (and times) its own
            classifier?.close()
            classifier = null
            classifierKey = null
            val outcome = try {
                Result.success(benchmark(entry, mode, threads))
            } catch (e: Exception) {
                Result.failure(e)
            }
            runOnUiThread {
                running = false
                benchmarkButton.text = getString(R.string.run_benchmark)
                setBusy(false)
                outcome.fold({ (record, file) -> showBenchmark(record, file) }, { e ->
                    benchmarkStatus.text = if (e is CancellationException) "cancelled" else "failed: ${e.message}"
                })
            }
        }
    }

    private fun benchmark(entry: BundleEntry, modeName: String, threads: Int): Pair<Map<String, Any?>, File> {
        val evalAssets = AssetBundles.loadEval(assets, entry.bundle.labels)
        val factory = ModelRunner.Factory { bundle, mode, t ->
            LiteRtModelRunner.open(assets, entry.source, mode, bundle.manifest.outputName, t)
        }
        var lastUi = 0L
        val result = Benchmark.run(
            entry.bundle, modeName, threads, evalAssets.eval, factory, Clock.SYSTEM,
            { done, total, _ ->
                val now = System.nanoTime()
                if (done == total || now - lastUi > 100_000_000L) { // at most ~10 UI updates a second
                    lastUi = now
                    runOnUiThread {
                        progress.setProgressCompat(1000 * done / total, true)
                        benchmarkStatus.text = "$done / $total examples"
                    }
                }
            },
            { cancel.get() },
        )
        val record = ResultRecord.build(
            result, entry.bundle, "assets/${entry.source.root}", DeviceInfoProvider.collect(), evalAssets.dataset,
            evalAssets.edgekit, DeviceInfoProvider.peakRssMb(), System.currentTimeMillis(),
        )
        evalAssets.hashNote?.let { record["notes"] = listOf(it) }
        val dir = File(getExternalFilesDir(null) ?: filesDir, "results").apply { mkdirs() }
        val file = File(dir, ResultRecord.fileName(record))
        // atomic: write a temp file in the same folder, then rename
        val tmp = File(dir, ".${file.name}.tmp")
        tmp.writeText(Json.writePretty(record, 2), Charsets.UTF_8)
        if (!tmp.renameTo(file)) {
            tmp.delete()
            throw java.io.IOException("cannot write $file")
        }
        return record to file
    }

    private fun showBenchmark(record: Map<String, Any?>, file: File) {
        lastResult = file
        shareButton.isEnabled = true
        fun num(path: String): Double = (Json.path(record, path) as Number).toDouble()
        val buckets = (record["buckets_used"] as Map<*, *>).entries.joinToString(", ") { "${it.key}: ${it.value}" }
        benchmarkStatus.text = "done: ${file.name}"
        benchmarkResults.text = String.format(
            Locale.ROOT,
            "examples     %d\naccuracy     %.4f\nmacro-F1     %.4f\nweighted-F1  %.4f\n\n" +
                "inference ms p50 %.3f  p90 %.3f  p99 %.3f\n             mean %.3f  std %.3f  min %.3f  max %.3f\n" +
                "tokenize ms  p50 %.3f\nload ms      %.1f\nfirst inf ms %.3f\npeak RSS     %s MB\nbuckets      %s\n\nsaved to %s",
            num("quality.n").toInt(), num("quality.accuracy"), num("quality.macro_f1"), num("quality.weighted_f1"),
            num("timing_ms.inference.p50"), num("timing_ms.inference.p90"), num("timing_ms.inference.p99"),
            num("timing_ms.inference.mean"), num("timing_ms.inference.std"), num("timing_ms.inference.min"),
            num("timing_ms.inference.max"), num("timing_ms.tokenization.p50"), num("timing_ms.load"),
            num("timing_ms.first_inference"), Json.path(record, "memory.peak_rss_mb")?.let {
                String.format(Locale.ROOT, "%.1f", (it as Number).toDouble())
            } ?: "n/a",
            buckets, file.absolutePath,
        )
    }

    private fun share(file: File) {
        val uri = FileProvider.getUriForFile(this, "$packageName.fileprovider", file)
        val send = Intent(Intent.ACTION_SEND).apply {
            type = "application/json"
            putExtra(Intent.EXTRA_STREAM, uri)
            putExtra(Intent.EXTRA_SUBJECT, file.name)
            addFlags(Intent.FLAG_GRANT_READ_URI_PERMISSION)
        }
        startActivity(Intent.createChooser(send, getString(R.string.share)))
    }
}
