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

    /// <summary>The exclusive upper bound of ids starting with <paramref name="prefix"/>, in byte (ordinal) order: the
    /// prefix with its last character raised by one. <see cref="OwnedRows"/> prefixes end in an ASCII separator.</summary>
    public static string PrefixEnd(string prefix) => string.Concat(prefix.AsSpan(0, prefix.Length - 1), [(char)(prefix[^1] + 1)]);

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

/// <summary>
/// Rows an entity owns beside its state row, in the same table under their own kind: a product's interests, one row
/// per customer, so that a checkpoint writes the interests that changed instead of the whole product; a customer's
/// decision records, one row each, written once instead of with every save of the customer. The id is the
/// owner's id with its length in front (no owner id is then a prefix of another's key range, whatever characters ids
/// hold), a separator, and the row's own id.
/// </summary>
public static class OwnedRows
{
    /// <summary>The kind of a product's interest rows.</summary>
    public const string InterestKind = "i";

    /// <summary>The kind of a customer's decision records: one row each, written once, keyed by
    /// <see cref="DecisionRowId"/>.</summary>
    public const string DecisionKind = "d";

    /// <summary>A decision record's row id: its number, zero-padded so that id order is record order.</summary>
    public static string DecisionRowId(long number) => number.ToString("D12", System.Globalization.CultureInfo.InvariantCulture);

    private const char Separator = '\u001F';

    public static string Prefix(string ownerId) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{ownerId.Length}:{ownerId}{Separator}");
    public static string Key(string ownerId, string rowId) => Prefix(ownerId) + rowId;

    /// <summary>The row's own id, from a key made by <see cref="Key"/> for the owner whose prefix is <paramref name="prefix"/>.</summary>
    public static string RowId(string key, string prefix) => key[prefix.Length..];

    /// <summary>A row's new value from its stored one (null: none yet) and a delta its owner wrote without reading the
    /// row: for an interest, the steps since the last save (<see cref="StateCodec.ApplyInterestSteps"/>).</summary>
    public static byte[] Merge(string kind, byte[]? stored, byte[] delta) => kind switch
    {
        InterestKind => StateCodec.ApplyInterestSteps(stored, delta),
        _ => throw new NotSupportedException($"rows of kind '{kind}' have no merge"),
    };

    public static byte[] Merge(string kind, byte[]? stored, IEnumerable<byte[]> deltas)
    {
        foreach (var delta in deltas) stored = Merge(kind, stored, delta);
        return stored ?? throw new ArgumentException("no delta", nameof(deltas));
    }
}

/// <summary>Deltas, in the order they were written, to apply to an owned row's stored value.</summary>
public sealed record RowMerge(string Kind, string Id, IReadOnlyList<byte[]> Deltas);
