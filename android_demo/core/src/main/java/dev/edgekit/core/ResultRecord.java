package dev.edgekit.core;

import java.text.SimpleDateFormat;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TimeZone;

/**
 * Builds the result record of {@code docs/contracts.md} §2 (schema version 1) — the same
 * JSON the Python runner writes, with {@code device.target = "android"}.
 */
public final class ResultRecord {
    public static final int SCHEMA_VERSION = 1;
    public static final String KIND = "edgekit-benchmark-result";

    /** What the record says about the eval data ({@code dataset} block). */
    public static final class DatasetInfo {
        public String name = "eval";
        public String split = "test";
        public String sha256 = "";
        /** Extra fields, e.g. the subset a limited eval set was drawn from. */
        public final Map<String, Object> extra = new LinkedHashMap<>();
    }

    /** The edgekit build that produced the bundle and assets ({@code edgekit} block). */
    public static final class EdgekitInfo {
        public String version = "unknown";
        public String gitCommit = "unknown";
        public String app = "edgekit-android-demo";
    }

    private ResultRecord() {}

    public static Map<String, Object> build(Benchmark.Result r, Bundle bundle, String bundlePath, DeviceInfo device,
                                            DatasetInfo dataset, EdgekitInfo edgekit, double peakRssMb,
                                            long epochMillis) throws BundleException {
        Manifest.Mode mode = bundle.manifest.mode(r.mode);
        Map<String, Object> rec = new LinkedHashMap<>();
        rec.put("schema_version", SCHEMA_VERSION);
        rec.put("kind", KIND);
        rec.put("device", device.toMap());

        Map<String, Object> b = new LinkedHashMap<>();
        b.put("path", bundlePath);
        b.put("model", bundle.manifest.modelName);
        b.put("family", bundle.manifest.family);
        b.put("mode", r.mode);
        b.put("file", mode.file);
        b.put("bytes", mode.bytes);
        b.put("sha256", mode.sha256);
        rec.put("bundle", b);

        rec.put("threads", r.threads);

        Map<String, Object> t = new LinkedHashMap<>();
        t.put("tokenization", r.tokenization.toMap());
        t.put("load", r.loadMs);
        t.put("first_inference", r.firstInferenceMs);
        t.put("inference", r.inference.toMap());
        t.put("end_to_end", r.endToEnd.toMap());
        rec.put("timing_ms", t);

        Map<String, Object> buckets = new LinkedHashMap<>();
        for (Map.Entry<Integer, Integer> e : r.bucketsUsed.entrySet()) buckets.put(String.valueOf(e.getKey()), e.getValue());
        rec.put("buckets_used", buckets);
        rec.put("truncated", r.truncated);

        Map<String, Object> mem = new LinkedHashMap<>();
        mem.put("peak_rss_mb", peakRssMb >= 0 ? (Object) peakRssMb : null);
        rec.put("memory", mem);

        rec.put("quality", r.report.toMap());

        Map<String, Object> d = new LinkedHashMap<>();
        d.put("name", dataset.name);
        d.put("split", dataset.split);
        d.put("sha256", dataset.sha256);
        d.putAll(dataset.extra);
        rec.put("dataset", d);

        Map<String, Object> ek = new LinkedHashMap<>();
        ek.put("version", edgekit.version);
        ek.put("git_commit", edgekit.gitCommit);
        ek.put("writer", edgekit.app);
        rec.put("edgekit", ek);

        rec.put("timestamp", isoUtc(epochMillis));
        return rec;
    }

    /** "2026-11-22T06:00:00Z" (no java.time: it needs API 26 on Android). */
    public static String isoUtc(long epochMillis) {
        SimpleDateFormat f = new SimpleDateFormat("yyyy-MM-dd'T'HH:mm:ss'Z'", Locale.ROOT);
        f.setTimeZone(TimeZone.getTimeZone("UTC"));
        return f.format(new Date(epochMillis));
    }

    /** A file name for the record: {@code <model>_<mode>_t<threads>_<yyyymmddThhmmss>.json}. */
    public static String fileName(Map<String, Object> record) {
        String stamp = String.valueOf(record.get("timestamp")).replace("-", "").replace(":", "").replace("Z", "");
        return safe(String.valueOf(Json.path(record, "bundle.model"))) + "_" + safe(String.valueOf(Json.path(record, "bundle.mode")))
            + "_t" + record.get("threads") + "_" + stamp + ".json";
    }

    private static String safe(String s) {
        return s.replaceAll("[^A-Za-z0-9._-]", "_");
    }
}
