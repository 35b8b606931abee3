using System.Globalization;
using System.Xml;
using Microsoft.Extensions.Primitives;
using TriggerEngine.Cluster.Customers;
using TriggerEngine.Core.Policy;
using TriggerEngine.Core.Scenarios;

namespace TriggerEngine.Host.Configuration;

/// <summary>
/// Turns <c>config/scenarios.json</c> and <c>config/policy.json</c> (plus the <c>Scenarios</c> and <c>Policy</c>
/// sections of the main configuration, for environment and command-line overrides) into the plain rule
/// records the core takes. Any parameter not given keeps its SPEC default.
/// </summary>
public static class RulesLoader
{
    public static ScenarioRules Scenarios(IConfiguration c)
    {
        var d = ScenarioRules.Default;
        ScenarioCommon Common(string name, ScenarioCommon def)
        {
            var s = c.GetSection(name);
            return new ScenarioCommon(
                s["purpose"] ?? def.Purpose,
                List(s.GetSection("channels")) ?? def.Channels,
                Int(s, "priority") ?? def.Priority,
                List(s.GetSection("topics")) ?? def.Topics,
                Bool(s, "enabled") ?? def.Enabled,
                Span(s, "maxDeferral") ?? def.MaxDeferral);
        }
        IConfigurationSection S(string name) => c.GetSection(name);
        return new ScenarioRules(
            new AbandonedCartRules(Common(ScenarioName.AbandonedCart, d.AbandonedCart.Common),
                Span(S(ScenarioName.AbandonedCart), "delay") ?? d.AbandonedCart.Delay,
                Span(S(ScenarioName.AbandonedCart), "followUp") ?? d.AbandonedCart.FollowUp),
            new BrowseAbandonmentRules(Common(ScenarioName.BrowseAbandonment, d.BrowseAbandonment.Common),
                Int(S(ScenarioName.BrowseAbandonment), "minViews") ?? d.BrowseAbandonment.MinViews,
                Span(S(ScenarioName.BrowseAbandonment), "minDwell") ?? d.BrowseAbandonment.MinDwell,
                Span(S(ScenarioName.BrowseAbandonment), "window") ?? d.BrowseAbandonment.Window,
                Span(S(ScenarioName.BrowseAbandonment), "quietPeriod") ?? d.BrowseAbandonment.QuietPeriod,
                Span(S(ScenarioName.BrowseAbandonment), "repeatAfter") ?? d.BrowseAbandonment.RepeatAfter),
            new PriceDropRules(Common(ScenarioName.PriceDrop, d.PriceDrop.Common),
                Span(S(ScenarioName.PriceDrop), "lookback") ?? d.PriceDrop.Lookback,
                Dec(S(ScenarioName.PriceDrop), "minDropPct") ?? d.PriceDrop.MinDropPct),
            new ReorderDelayRules(Common(ScenarioName.ReorderDelay, d.ReorderDelay.Common),
                Int(S(ScenarioName.ReorderDelay), "minOrders") ?? d.ReorderDelay.MinOrders,
                (double?)Dec(S(ScenarioName.ReorderDelay), "graceFactor") ?? d.ReorderDelay.GraceFactor),
            new ReplenishmentRules(Common(ScenarioName.Replenishment, d.Replenishment.Common),
                Span(S(ScenarioName.Replenishment), "xlExtraDays") ?? d.Replenishment.XlExtraDays),
            new BackInStockRules(Common(ScenarioName.BackInStock, d.BackInStock.Common)),
            new WelcomeRules(Common(ScenarioName.Welcome, d.Welcome.Common)));
    }

    public static PolicyRules Policy(IConfiguration c)
    {
        var d = PolicyRules.Default;
        var caps = c.GetSection("caps");
        var perChannel = new Dictionary<string, CapLimit>(d.PerChannel, StringComparer.Ordinal);
        foreach (var ch in caps.GetSection("channels").GetChildren())
            perChannel[ch.Key] = Cap(ch, perChannel.GetValueOrDefault(ch.Key) ?? new CapLimit(int.MaxValue, TimeSpan.FromDays(1)));
        var quiet = new Dictionary<string, QuietHours>(d.QuietHoursByChannel, StringComparer.Ordinal);
        foreach (var ch in c.GetSection("quietHours").GetChildren())
        {
            if (Bool(ch, "enabled") == false) { quiet.Remove(ch.Key); continue; }
            var def = quiet.GetValueOrDefault(ch.Key) ?? new QuietHours(new TimeOnly(21, 0), new TimeOnly(8, 0));
            quiet[ch.Key] = new QuietHours(ch["start"] is { } s ? TimeOnly.Parse(s, CultureInfo.InvariantCulture) : def.Start,
                ch["end"] is { } e ? TimeOnly.Parse(e, CultureInfo.InvariantCulture) : def.End);
        }
        return new PolicyRules(
            Bool(c, "requireConsentRecord") ?? d.RequireConsentRecord,
            Cap(caps.GetSection("global"), d.Global),
            perChannel,
            Span(caps, "scenarioCooldown") ?? d.ScenarioCooldown,
            Span(caps, "minimumGap") ?? d.MinimumGap,
            quiet,
            c["defaultTimeZone"] ?? d.DefaultTimeZone,
            Span(c, "arbitrationWindow") ?? d.ArbitrationWindow);
    }

    private static CapLimit Cap(IConfigurationSection s, CapLimit def) => new(Int(s, "max") ?? def.Max, Span(s, "per") ?? def.Per);

    private static IReadOnlyList<string>? List(IConfigurationSection s)
    {
        var items = s.GetChildren().Select(x => x.Value).Where(v => !string.IsNullOrEmpty(v)).Select(v => v!).ToArray();
        return items.Length == 0 ? null : items;
    }

    private static int? Int(IConfiguration s, string key) =>
        s[key] is { Length: > 0 } v ? int.Parse(v, CultureInfo.InvariantCulture) : null;

    private static decimal? Dec(IConfiguration s, string key) =>
        s[key] is { Length: > 0 } v ? decimal.Parse(v, CultureInfo.InvariantCulture) : null;

    private static bool? Bool(IConfiguration s, string key) => s[key] is { Length: > 0 } v ? bool.Parse(v) : null;

    /// <summary>"00:30:00", "7.00:00:00" (as .NET writes TimeSpans), or ISO-8601 "PT30M".</summary>
    public static TimeSpan? Span(IConfiguration s, string key)
    {
        var v = s[key];
        if (string.IsNullOrWhiteSpace(v)) return null;
        if (TimeSpan.TryParse(v, CultureInfo.InvariantCulture, out var t)) return t;
        return XmlConvert.ToTimeSpan(v);
    }
}

/// <summary>The rules in force, swapped atomically whenever the scenario or policy files change.</summary>
public sealed class ReloadingJourneyRules : IJourneyRules, IDisposable
{
    private volatile FixedJourneyRules _current;
    private readonly IConfiguration _scenarios;
    private readonly IConfiguration _policy;
    private readonly IDisposable _scenariosWatch;
    private readonly IDisposable _policyWatch;

    public ReloadingJourneyRules(IConfiguration scenarios, IConfiguration policy, ILogger<ReloadingJourneyRules> log)
    {
        _current = new FixedJourneyRules(RulesLoader.Scenarios(scenarios), RulesLoader.Policy(policy));
        void Reload()
        {
            try
            {
                _current = new FixedJourneyRules(RulesLoader.Scenarios(scenarios), RulesLoader.Policy(policy));
                log.LogInformation("Scenario and policy rules reloaded");
            }
            catch (Exception ex)
            {
                log.LogError(ex, "Rules not reloaded: the files are invalid; the previous rules stay in force");
                return;
            }
            Changed?.Invoke();
        }
        (_scenarios, _policy) = (scenarios, policy);
        _scenariosWatch = ChangeToken.OnChange(scenarios.GetReloadToken, Reload);
        _policyWatch = ChangeToken.OnChange(policy.GetReloadToken, Reload);
    }

    /// <summary>Stops watching the files. The configurations are this object's own (built for it), and each holds a file
    /// watcher: an inotify instance on Linux, of which a user has 128 by default, so they must not outlive the engine.</summary>
    public void Dispose()
    {
        _scenariosWatch.Dispose();
        _policyWatch.Dispose();
        (_scenarios as IDisposable)?.Dispose();
        (_policy as IDisposable)?.Dispose();
    }

    public ScenarioRules Scenarios => _current.Scenarios;
    public PolicyRules Policy => _current.Policy;
    public event Action? Changed;
}
