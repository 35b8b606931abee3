namespace TriggerEngine.Core;

/// <summary>Durations written the way a person reads them in a reason ("30 minutes", "7 d").</summary>
public static class Durations
{
    public static string Describe(TimeSpan t)
    {
        // Up to two days reads better in hours ("24 h"); beyond, in days ("7 d").
        if (t.TotalDays >= 2 && t.TotalDays == Math.Floor(t.TotalDays)) return $"{t.TotalDays:0} d";
        if (t.TotalHours >= 1 && t.TotalHours == Math.Floor(t.TotalHours)) return $"{t.TotalHours:0} h";
        if (t.TotalMinutes >= 1 && t.TotalMinutes == Math.Floor(t.TotalMinutes)) return $"{t.TotalMinutes:0} min";
        return $"{t.TotalSeconds:0} s";
    }

    /// <summary>"30 minutes", "2 hours", "3 days": for sentences addressed to a customer.</summary>
    public static string Ago(TimeSpan t)
    {
        static string Plural(double n, string unit) => $"{n:0} {unit}{(Math.Round(n) == 1 ? "" : "s")}";
        if (t.TotalDays >= 1) return Plural(Math.Floor(t.TotalDays), "day");
        if (t.TotalHours >= 1) return Plural(Math.Floor(t.TotalHours), "hour");
        return Plural(Math.Max(0, Math.Floor(t.TotalMinutes)), "minute");
    }
}
