using TriggerEngine.Core.Customers;
using TriggerEngine.Core.Decisions;
using TriggerEngine.Core.Events;
using TriggerEngine.Core.Policy;

namespace TriggerEngine.Cluster.Customers;

/// <summary>Routes a message to the customer entity that owns <see cref="CustomerId"/>.</summary>
public interface IWithCustomerId
{
    string CustomerId { get; }
}

// Commands (ask: each gets the reply named beside it).
/// <summary>Apply these events in order; reply <see cref="EventsIngested"/> once they are durable.</summary>
public sealed record IngestEvents(string CustomerId, IReadOnlyList<CustomerEvent> Events) : IWithCustomerId;
public sealed record EventsIngested(string CustomerId, int Applied, int Duplicates);

/// <summary>Fire every timer due up to <see cref="Until"/>; reply <see cref="CustomerAdvanced"/>.</summary>
public sealed record AdvanceCustomer(string CustomerId, DateTimeOffset Until) : IWithCustomerId;
public sealed record CustomerAdvanced(string CustomerId, DateTimeOffset? NextDue);

/// <summary>identify: take over the anonymous profile <see cref="AnonymousKey"/>; reply <see cref="EventsIngested"/>.</summary>
public sealed record MergeAnonymousProfile(string CustomerId, string AnonymousKey) : IWithCustomerId;

/// <summary>To the anonymous profile: hand your events to <see cref="Into"/> and forward from now on.</summary>
public sealed record HandOverProfile(string CustomerId, string Into) : IWithCustomerId;
public sealed record ProfileHandedOver(IReadOnlyList<CustomerEvent> Events);

public sealed record ExplainCustomer(string CustomerId) : IWithCustomerId;

public sealed record EraseCustomer(string CustomerId) : IWithCustomerId;
public sealed record CustomerErased(string CustomerId);

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

// Journal: what a customer entity persists. Inputs plus the consent record the policy saw, so that
// recovery replays to exactly the state (and decisions) that were produced live.
public interface ICustomerJournalEvent;

public sealed record CustomerEventRecorded(CustomerEvent Event, ConsentRecord? Consent, DateTimeOffset? WallNow)
    : ICustomerJournalEvent;

public sealed record CustomerTimeAdvanced(DateTimeOffset Until, ConsentRecord? Consent, DateTimeOffset? WallNow)
    : ICustomerJournalEvent;

public sealed record AnonymousProfileAbsorbed(string AnonymousKey, IReadOnlyList<CustomerEvent> Events,
    ConsentRecord? Consent, DateTimeOffset? WallNow) : ICustomerJournalEvent;

public sealed record ProfileMergedInto(string Into) : ICustomerJournalEvent;
