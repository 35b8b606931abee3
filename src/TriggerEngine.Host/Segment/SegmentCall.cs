using TriggerEngine.Core.Events;

namespace TriggerEngine.Host.Segment;

/// <summary>
/// One Segment call, mapped: the customer it belongs to, the event for that customer, and (identify with
/// both ids) the anonymous profile to merge. The products it shows interest in are derived where they are
/// dispatched (<c>ProductInterests.Of</c>).
/// </summary>
public sealed record MappedCall(string CustomerId, CustomerEvent Event, string? MergeAnonymousKey);

/// <summary>A call that could not be accepted, by its index in the batch.</summary>
public sealed record RejectedCall(int Index, string Error);
