namespace TriggerEngine.Cluster.Persistence;

/// <summary>What both stores do the same way to their input and their columns.</summary>
internal static class StoreRows
{
    /// <summary>The meta key of the outbox's delivered cursor (an ordinal, as decimal text).</summary>
    public const string DeliveredCursorKey = "outbox.delivered";

    public static long ToUnixMs(DateTimeOffset t) => t.ToUnixTimeMilliseconds();
    public static DateTimeOffset FromUnixMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    /// <summary>One state per key, the last given winning; a single upsert statement may not touch a row twice (PostgreSQL).</summary>
    public static IReadOnlyList<StoredState> LastPerKey(IReadOnlyList<StoredState> states)
    {
        if (states.Count < 2) return states;
        var last = new Dictionary<(string, string), int>(states.Count);
        for (var i = 0; i < states.Count; i++) last[(states[i].Kind, states[i].Id)] = i;
        if (last.Count == states.Count) return states;
        var kept = new List<StoredState>(last.Count);
        for (var i = 0; i < states.Count; i++)
            if (last[(states[i].Kind, states[i].Id)] == i) kept.Add(states[i]);
        return kept;
    }

    /// <summary>One decision per id, the first given winning (later ones are duplicates of it).</summary>
    public static List<(string DecisionId, byte[] Payload)> FirstPerDecision(IReadOnlyList<(string DecisionId, byte[] Payload)> decisions)
    {
        var seen = new HashSet<string>(decisions.Count, StringComparer.Ordinal);
        var kept = new List<(string, byte[])>(decisions.Count);
        foreach (var d in decisions)
            if (seen.Add(d.DecisionId)) kept.Add(d);
        return kept;
    }
}
