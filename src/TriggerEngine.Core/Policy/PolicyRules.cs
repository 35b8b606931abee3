namespace TriggerEngine.Core.Policy;

/// <summary>At most <see cref="Max"/> messages per rolling <see cref="Per"/>.</summary>
public sealed record CapLimit(int Max, TimeSpan Per)
{
    public string Describe() => $"{Max} per {Durations.Describe(Per)}";
}

/// <summary>Quiet hours in the customer's local time; <see cref="Start"/> may be after <see cref="End"/> (overnight).</summary>
public sealed record QuietHours(TimeOnly Start, TimeOnly End);

/// <summary>The policy of SPEC section 4, every default from there (config/policy.json).</summary>
public sealed record PolicyRules(
    bool RequireConsentRecord,
    CapLimit Global,
    IReadOnlyDictionary<string, CapLimit> PerChannel,
    TimeSpan ScenarioCooldown,
    TimeSpan MinimumGap,
    IReadOnlyDictionary<string, QuietHours> QuietHoursByChannel,
    string DefaultTimeZone,
    TimeSpan ArbitrationWindow)
{
    public static readonly PolicyRules Default = new(
        RequireConsentRecord: true,
        Global: new CapLimit(3, TimeSpan.FromDays(7)),
        PerChannel: new Dictionary<string, CapLimit>
        {
            ["email"] = new(1, TimeSpan.FromHours(24)),
            ["sms"] = new(1, TimeSpan.FromDays(7)),
            ["push"] = new(2, TimeSpan.FromHours(24)),
        },
        ScenarioCooldown: TimeSpan.FromHours(24),
        MinimumGap: TimeSpan.FromHours(4),
        QuietHoursByChannel: new Dictionary<string, QuietHours>
        {
            ["sms"] = new(new TimeOnly(21, 0), new TimeOnly(8, 0)),
            ["push"] = new(new TimeOnly(21, 0), new TimeOnly(8, 0)),
        },
        DefaultTimeZone: "UTC",
        ArbitrationWindow: TimeSpan.FromMinutes(1));

    /// <summary>The longest window any cap looks back over: sends older than this can be forgotten.</summary>
    public TimeSpan LongestCapWindow =>
        new[] { Global.Per, ScenarioCooldown, MinimumGap, TimeSpan.FromDays(7) }
            .Concat(PerChannel.Values.Select(c => c.Per)).Max();
}
