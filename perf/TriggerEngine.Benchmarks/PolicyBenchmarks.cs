using BenchmarkDotNet.Attributes;
using TriggerEngine.Core.Customers;
using TriggerEngine.Core.Policy;
using TriggerEngine.Core.Scenarios;

namespace TriggerEngine.Benchmarks;

/// <summary>
/// <see cref="TriggerPolicy.Evaluate"/> for an abandoned-cart candidate of a consented customer in
/// Europe/Paris, with a send history of two or three messages: the three ways it usually ends.
/// </summary>
[MemoryDiagnoser]
public class PolicyBenchmarks
{
    private static readonly ScenarioCommon Scenario = ScenarioRules.Default.AbandonedCart.Common;
    private static readonly PolicyRules Rules = PolicyRules.Default;

    /// <summary>Monday 19:00 UTC (20:00 in Paris, before the 21:00 quiet hours).</summary>
    private static readonly DateTimeOffset Evening = Traffic.T0.AddHours(10);

    /// <summary>Monday 21:30 UTC (22:30 in Paris, inside push quiet hours).</summary>
    private static readonly DateTimeOffset Night = Traffic.T0.AddHours(12.5);

    private readonly Candidate _candidate = Candidate(Evening);
    private readonly Candidate _nightCandidate = Candidate(Night);

    /// <summary>An email three days ago and a push yesterday: caps pass, sent by email.</summary>
    private readonly List<SendMark> _fewSends =
    [
        new(Traffic.T0.AddDays(-3), "email", ScenarioName.BrowseAbandonment, "promotions"),
        new(Traffic.T0.AddHours(-20), "push", null, "promotions"),
    ];

    /// <summary>An email five hours before: email capped (1 per 24 h), push is in quiet hours, deferred.</summary>
    private readonly List<SendMark> _emailToday =
    [
        new(Traffic.T0.AddDays(-4), "sms", ScenarioName.PriceDrop, "product_alerts"),
        new(Night.AddHours(-5), "email", ScenarioName.BrowseAbandonment, "promotions"),
    ];

    /// <summary>Three messages this week: the global cap (3 per 7 days) suppresses.</summary>
    private readonly List<SendMark> _weekFull =
    [
        new(Traffic.T0.AddDays(-5), "email", ScenarioName.PriceDrop, "product_alerts"),
        new(Traffic.T0.AddDays(-3), "push", null, "promotions"),
        new(Traffic.T0.AddDays(-1), "email", ScenarioName.BrowseAbandonment, "promotions"),
    ];

    [Benchmark(Baseline = true)]
    public PolicyVerdict Evaluate_Sent() =>
        TriggerPolicy.Evaluate(_candidate, Scenario, Traffic.Consent, _fewSends, Traffic.TimeZone, Rules, Evening);

    [Benchmark]
    public PolicyVerdict Evaluate_EmailCapped_PushDeferred() =>
        TriggerPolicy.Evaluate(_nightCandidate, Scenario, Traffic.Consent, _emailToday, Traffic.TimeZone, Rules, Night);

    [Benchmark]
    public PolicyVerdict Evaluate_SuppressedByGlobalCap() =>
        TriggerPolicy.Evaluate(_candidate, Scenario, Traffic.Consent, _weekFull, Traffic.TimeZone, Rules, Evening);

    private static Candidate Candidate(DateTimeOffset at) => new(ScenarioName.AbandonedCart, "cart-1#1", at,
        "You left 3 items in your cart 30 min ago", ["msg-1", "msg-2", "msg-3"],
        new Dictionary<string, object?> { ["cart_id"] = "cart-1", ["reminder"] = 1 });
}
