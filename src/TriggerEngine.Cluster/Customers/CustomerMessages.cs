using Akka.Actor;
using TriggerEngine.Core.Customers;
using TriggerEngine.Core.Decisions;
using TriggerEngine.Core.Events;

namespace TriggerEngine.Cluster.Customers;

/// <summary>Routes a message to the customer entity that owns <see cref="CustomerId"/>.</summary>
public interface IWithCustomerId
{
    string CustomerId { get; }
}

// Commands (ask: each gets the reply named beside it).
/// <summary>Apply these events in order; reply <see cref="EventsIngested"/> once applied and their decisions
/// are in the outbox. <see cref="Seq"/> is the ingest-log record they come from (0: from a product entity);
/// <see cref="ReceivedAt"/> the wall clock when it was accepted; <see cref="ForwardedFrom"/> marks events an
/// anonymous profile passed on to the customer it was merged into, and names the profile the record addressed: a
/// failure is answered in its name, so that the log sends a replayed record's part again where it first went.</summary>
public sealed record IngestEvents(string CustomerId, IReadOnlyList<CustomerEvent> Events, long Seq = 0,
    DateTimeOffset? ReceivedAt = null, string? ForwardedFrom = null) : IWithCustomerId;

/// <summary>Also names the other entities the step changed (a merge changes the anonymous profile and the
/// products that knew it), so that the log's next checkpoint saves them too.</summary>
public sealed record EventsIngested(string CustomerId, int Applied, int Duplicates, long Seq = 0,
    IReadOnlyList<string>? AlsoCustomers = null, IReadOnlyList<string>? AlsoProducts = null);

/// <summary>Applying log record <see cref="Seq"/> failed at this entity.</summary>
public sealed record ApplyFailed(long Seq, string EntityId, string Reason)
{
    /// <summary>How an entity answers a command that failed: for a log record (<paramref name="seq"/> above 0) an
    /// <see cref="ApplyFailed"/> (the log answers its client 503), for anything else a failed ask.</summary>
    public static object Answer(long seq, string entityId, Exception cause, string? reason = null) =>
        seq > 0 ? new ApplyFailed(seq, entityId, reason ?? cause.Message) : new Status.Failure(cause);
}

/// <summary>Fire every timer due up to <see cref="Until"/>; reply <see cref="CustomerAdvanced"/>.</summary>
public sealed record AdvanceCustomer(string CustomerId, DateTimeOffset Until) : IWithCustomerId;
public sealed record CustomerAdvanced(string CustomerId, DateTimeOffset? NextDue);

/// <summary>identify: take over the anonymous profile <see cref="AnonymousKey"/>; reply <see cref="EventsIngested"/>.</summary>
public sealed record MergeAnonymousProfile(string CustomerId, string AnonymousKey, long Seq = 0) : IWithCustomerId;

/// <summary>To the anonymous profile: hand your events to <see cref="Into"/> and forward from now on.</summary>
public sealed record HandOverProfile(string CustomerId, string Into) : IWithCustomerId;
public sealed record ProfileHandedOver(IReadOnlyList<CustomerEvent> Events);

public sealed record ExplainCustomer(string CustomerId) : IWithCustomerId;

public sealed record EraseCustomer(string CustomerId) : IWithCustomerId;
/// <summary><see cref="Products"/>: the products that knew of the customer's interest, to be told to forget it.</summary>
public sealed record CustomerErased(string CustomerId, IReadOnlyList<string>? Products = null);

/// <summary>What <c>GET /v1/customers/{id}</c> shows; built inside the entity, immutable once sent.</summary>
public sealed record CustomerExplanation(
    string CustomerId,
    bool Exists,
    string? MergedInto,
    string? TimeZone,
    DateTimeOffset? LastEventAt,
    IReadOnlyDictionary<string, string> Traits,
    IReadOnlyList<HistoryEntry> History,
    IReadOnlyList<ActiveInstance> ActiveInstances,
    DateTimeOffset? NextDue,
    IReadOnlyList<CapUsage> Caps,
    IReadOnlyList<SendMark> Sends,
    IReadOnlyList<TriggerDecision> Decisions);
