package dev.edgekit.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Accuracy, macro/weighted F1 and per-class precision/recall/F1/support, as
 * {@code edgekit.metrics.classification_report}: every label counts in the macro average and a
 * class never predicted or never present scores 0 (scikit-learn's zero_division=0).
 */
public final class ClassificationReport {
    public final List<String> labels;
    public final int[][] confusion;
    public final double[] precision;
    public final double[] recall;
    public final double[] f1;
    public final int[] support;
    public final int n;
    public final double accuracy;
    public final double macroF1;
    public final double weightedF1;
    public final double macroPrecision;
    public final double macroRecall;

    /** Rows are true labels, columns predicted labels. */
    public static int[][] confusionMatrix(int[] yTrue, int[] yPred, int numClasses) {
        if (yTrue.length != yPred.length) throw new IllegalArgumentException("y_true and y_pred differ in length");
        int[][] cm = new int[numClasses][numClasses];
        for (int i = 0; i < yTrue.length; i++) {
            if (yTrue[i] < 0 || yTrue[i] >= numClasses || yPred[i] < 0 || yPred[i] >= numClasses) {
                throw new IllegalArgumentException("label index out of range at " + i);
            }
            cm[yTrue[i]][yPred[i]]++;
        }
        return cm;
    }

    public ClassificationReport(int[] yTrue, int[] yPred, List<String> labels) {
        int k = labels.size();
        this.labels = Collections.unmodifiableList(new ArrayList<>(labels));
        confusion = confusionMatrix(yTrue, yPred, k);
        precision = new double[k];
        recall = new double[k];
        f1 = new double[k];
        support = new int[k];
        double tpSum = 0;
        int total = 0;
        for (int c = 0; c < k; c++) {
            int predicted = 0;
            for (int r = 0; r < k; r++) {
                support[c] += confusion[c][r];
                predicted += confusion[r][c];
            }
            double tp = confusion[c][c];
            tpSum += tp;
            total += support[c];
            precision[c] = predicted > 0 ? tp / predicted : 0.0;
            recall[c] = support[c] > 0 ? tp / support[c] : 0.0;
            double denom = precision[c] + recall[c];
            f1[c] = denom > 0 ? 2 * precision[c] * recall[c] / denom : 0.0;
        }
        n = total;
        accuracy = n > 0 ? tpSum / n : 0.0;
        macroF1 = k > 0 ? mean(f1) : 0.0;
        macroPrecision = k > 0 ? mean(precision) : 0.0;
        macroRecall = k > 0 ? mean(recall) : 0.0;
        double w = 0;
        for (int c = 0; c < k; c++) w += f1[c] * support[c];
        weightedF1 = n > 0 ? w / n : 0.0;
    }

    private static double mean(double[] v) {
        double s = 0;
        for (double x : v) s += x;
        return s / v.length;
    }

    /** The same keys as the Python report (the result record's {@code quality} block). */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("n", n);
        m.put("accuracy", accuracy);
        m.put("macro_f1", macroF1);
        m.put("weighted_f1", weightedF1);
        m.put("macro_precision", macroPrecision);
        m.put("macro_recall", macroRecall);
        Map<String, Object> per = new LinkedHashMap<>();
        for (int c = 0; c < labels.size(); c++) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("precision", precision[c]);
            e.put("recall", recall[c]);
            e.put("f1", f1[c]);
            e.put("support", support[c]);
            per.put(labels.get(c), e);
        }
        m.put("per_class", per);
        m.put("labels", new ArrayList<>(labels));
        List<Object> rows = new ArrayList<>();
        for (int[] row : confusion) rows.add(row.clone());
        m.put("confusion_matrix", rows);
        return m;
    }
}
