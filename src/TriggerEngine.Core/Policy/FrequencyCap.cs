using TriggerEngine.Core.Customers;

namespace TriggerEngine.Core.Policy;

/// <summary>
/// SPEC 4 frequency caps, all enforced together over the messages already sent (ours and
/// <c>Message Sent</c>) as of the instant <c>at</c>. Each check returns a sentence, or null when it passes.
/// </summary>
public static class FrequencyCap
{
    /// <summary>Caps that hold whatever the channel: global, the customer's maxPerWeek, min gap, cool-down.</summary>
    public static string? CustomerWide(IReadOnlyList<SendMark> sends, string scenario, ConsentRecord? consent,
        PolicyRules rules, DateTimeOffset at)
    {
        var global = Count(sends, at, rules.Global.Per, _ => true);
        if (global >= rules.Global.Max) return $"global limit of {rules.Global.Describe()} reached";
        if (consent?.MaxPerWeek is { } own && Count(sends, at, TimeSpan.FromDays(7), _ => true) >= own)
            return $"the customer's own limit of {own} per week reached";
        var last = sends.Where(s => s.At <= at).Select(s => (DateTimeOffset?)s.At).Max();
        if (last is { } l && at - l < rules.MinimumGap)
            return $"minimum gap of {Durations.Describe(rules.MinimumGap)} since the last message ({Durations.Ago(at - l)} ago)";
        if (Count(sends, at, rules.ScenarioCooldown, s => s.Scenario == scenario) > 0)
            return $"{scenario} cool-down of {Durations.Describe(rules.ScenarioCooldown)}";
        return null;
    }

    /// <summary>The per-channel cap, e.g. "email limit of 1 per 24 h reached".</summary>
    public static string? Channel(IReadOnlyList<SendMark> sends, string channel, PolicyRules rules, DateTimeOffset at)
    {
        if (!rules.PerChannel.TryGetValue(channel, out var cap)) return null;
        return Count(sends, at, cap.Per, s => s.Channel == channel) >= cap.Max
            ? $"{channel} limit of {cap.Describe()} reached"
            : null;
    }

    public static int Count(IReadOnlyList<SendMark> sends, DateTimeOffset at, TimeSpan per, Func<SendMark, bool> match)
    {
        var n = 0;
        foreach (var s in sends)
            if (s.At <= at && s.At > at - per && match(s)) n++;
        return n;
    }
}
