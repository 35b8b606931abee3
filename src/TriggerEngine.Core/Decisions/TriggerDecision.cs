namespace TriggerEngine.Core.Decisions;

public static class Outcome
{
    public const string Sent = "sent";
    public const string Suppressed = "suppressed";
    public const string Deferred = "deferred";
}

public static class SuppressedBy
{
    public const string NoConsent = "no_consent";
    public const string FrequencyCap = "frequency_cap";
    public const string QuietHours = "quiet_hours";
    public const string LowerPriority = "lower_priority";
    public const string OptOutTopic = "opt_out_topic";
}

/// <summary>A decision record of SPEC section 5: the trigger command, or why there was none.</summary>
public sealed record TriggerDecision(
    string DecisionId,
    string CustomerId,
    string Scenario,
    string Outcome,
    string? SuppressedBy,
    string? Channel,
    string Purpose,
    int Priority,
    DateTimeOffset FiredAt,
    DateTimeOffset DecidedAt,
    string Reason,
    IReadOnlyList<string> BasedOn,
    IReadOnlyDictionary<string, object?> Payload,
    DateTimeOffset? DeferredUntil = null)
{
    public bool IsFinal => Outcome != Decisions.Outcome.Deferred;
}
