package dev.edgekit.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.BeforeClass;
import org.junit.Test;

/** Latency statistics, classification reports and softmax against edgekit.metrics' numbers. */
public class MetricsGoldenTest {
    private static Map<String, Object> golden;

    @BeforeClass
    public static void load() throws Exception {
        golden = Golden.json("metrics_golden.json");
    }

    private static void assertClose(String what, double expected, double actual) {
        assertTrue(what + ": expected " + expected + " got " + actual, Golden.close(expected, actual));
    }

    @Test
    public void latencyStatsMatchPython() {
        List<Object> cases = Json.asList(golden.get("latency"), "latency");
        assertTrue(cases.size() >= 5);
        for (Object o : cases) {
            Map<String, Object> c = Json.asObject(o, "case");
            double[] values = Golden.doubles(c.get("values"));
            Map<String, Object> exp = Json.asObject(c.get("stats"), "stats");
            Map<String, Object> got = Stats.latency(values).toMap();
            for (String key : new String[] {"p50", "p90", "p99", "mean", "std", "min", "max"}) {
                assertClose("n=" + values.length + " " + key, Json.asDouble(exp.get(key), key), (Double) got.get(key));
            }
            assertEquals(Json.asLong(exp.get("count"), "count"), ((Integer) got.get("count")).longValue());
            assertEquals(exp.keySet(), got.keySet());
            for (Map.Entry<String, Object> p : Json.asObject(c.get("percentiles"), "percentiles").entrySet()) {
                double q = Double.parseDouble(p.getKey());
                // percentiles use the same arithmetic as numpy: exact
                assertEquals("q=" + q, Json.asDouble(p.getValue(), "p"), Stats.percentile(values, q), 0.0);
            }
        }
    }

    @Test
    public void classificationReportsMatchPython() {
        for (Object o : Json.asList(golden.get("reports"), "reports")) {
            Map<String, Object> c = Json.asObject(o, "case");
            @SuppressWarnings("unchecked")
            List<String> labels = (List<String>) (List<?>) Json.asList(c.get("labels"), "labels");
            ClassificationReport r = new ClassificationReport(Golden.ints(c.get("y_true")), Golden.ints(c.get("y_pred")), labels);
            Map<String, Object> exp = Json.asObject(c.get("report"), "report");
            Map<String, Object> got = r.toMap();
            String kind = (String) c.get("kind");
            assertEquals(kind, exp.keySet(), got.keySet());
            assertEquals(kind, Json.asLong(exp.get("n"), "n"), r.n);
            for (String key : new String[] {"accuracy", "macro_f1", "weighted_f1", "macro_precision", "macro_recall"}) {
                assertClose(kind + " " + key, Json.asDouble(exp.get(key), key), (Double) got.get(key));
            }
            Map<String, Object> per = Json.asObject(exp.get("per_class"), "per_class");
            for (int i = 0; i < labels.size(); i++) {
                Map<String, Object> e = Json.asObject(per.get(labels.get(i)), "class");
                assertClose(kind + " precision", Json.asDouble(e.get("precision"), "p"), r.precision[i]);
                assertClose(kind + " recall", Json.asDouble(e.get("recall"), "r"), r.recall[i]);
                assertClose(kind + " f1", Json.asDouble(e.get("f1"), "f"), r.f1[i]);
                assertEquals(Json.asLong(e.get("support"), "s"), r.support[i]);
            }
            List<Object> cm = Json.asList(exp.get("confusion_matrix"), "cm");
            for (int i = 0; i < cm.size(); i++) assertArrayEquals(kind, Golden.ints(cm.get(i)), r.confusion[i]);
            assertEquals(labels, got.get("labels"));
        }
    }

    @Test
    public void softmaxAndArgmaxMatchPython() {
        for (Object o : Json.asList(golden.get("softmax"), "softmax")) {
            Map<String, Object> c = Json.asObject(o, "case");
            double[] lg = Golden.doubles(c.get("logits"));
            float[] logits = new float[lg.length];
            for (int i = 0; i < lg.length; i++) logits[i] = (float) lg[i];
            double[] exp = Golden.doubles(c.get("probabilities"));
            double[] got = Stats.softmax(logits);
            for (int i = 0; i < exp.length; i++) assertEquals(exp[i], got[i], 1e-12);
            assertEquals(Json.asLong(c.get("argmax"), "argmax"), Stats.argmax(logits));
        }
    }

    @Test(expected = IllegalArgumentException.class)
    public void latencyOfNothingIsAnError() {
        Stats.latency(new double[0]);
    }
}
