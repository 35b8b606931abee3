namespace TriggerEngine.Cluster.Ingest;

/// <summary>
/// Which records a replayed record must not overlap with after a restart (<c>IngestLog.PumpReplay</c>).
/// </summary>
/// <remarks>
/// Live, concurrent requests overlapped freely, and a replay may too: each entity gets the log's messages in log order.
/// Two kinds of record reach entities by a second hop, where that order no longer holds:
/// <list type="bullet">
/// <item>A catalog record reaches customers through products. It overlaps with nothing: sent together with later
/// records, a price drop would reach a customer after events that followed it live.</item>
/// <item>A record with an identify merge reaches the anonymous profile and the products through the customer (hand-over,
/// interest moves). It overlaps with no record that names any of its customers or profiles, so the hand-over and
/// the moves see exactly the events before it. Records of other persons may go beside it, as they did live; most
/// requests of 500 calls hold a merge, and replaying each alone made the replay serial.</item>
/// </list>
/// A profile merged before the replayed range forwards its later events to its customer, whom the log does not know
/// of; such an event can meet a later merge of that customer in a different order than live. This needs an anonymous
/// call after its identify and a second merge into the same customer, both within one checkpoint interval.
/// </remarks>
public sealed class ReplayOrder
{
    private readonly HashSet<string> _customers;

    private ReplayOrder(bool alone, bool merges, HashSet<string> customers)
    {
        Alone = alone;
        Merges = merges;
        _customers = customers;
    }

    /// <summary>A catalog record: replayed only once everything before it is applied, and nothing beside it.</summary>
    public bool Alone { get; }

    /// <summary>The record merges an anonymous profile into a customer.</summary>
    public bool Merges { get; }

    public static ReplayOrder Of(IIngestRecord record)
    {
        if (record is not CallsRecord calls) return new ReplayOrder(alone: true, merges: false, []);
        var customers = new HashSet<string>(StringComparer.Ordinal);
        var merges = false;
        foreach (var call in calls.Calls)
        {
            customers.Add(call.CustomerId);
            if (call.MergeAnonymousKey is not { } anonymous) continue;
            customers.Add(anonymous);
            merges = true;
        }
        return new ReplayOrder(alone: false, merges, customers);
    }

    public bool ConflictsWith(ReplayOrder other) =>
        Alone || other.Alone || ((Merges || other.Merges) && _customers.Overlaps(other._customers));
}
