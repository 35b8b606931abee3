using TriggerEngine.Core.Customers;
using TriggerEngine.Core.Decisions;
using TriggerEngine.Core.Scenarios;

namespace TriggerEngine.Core.Policy;

/// <summary>What the policy concluded for one candidate: the fields a decision record takes from it.</summary>
public sealed record PolicyVerdict(string Outcome, string? SuppressedBy, string? Channel, string Why,
    DateTimeOffset? DeferredUntil = null);

/// <summary>
/// SPEC 4, checked before every send: consent (record, unsubscribe, topics, purpose, channels), the
/// caps, then the channel in order of preference, then quiet hours (deferral, not drop).
/// A pure gate: consent and the send history come in as values.
/// </summary>
public static class TriggerPolicy
{
    public static PolicyVerdict Evaluate(Candidate c, ScenarioCommon scenario, ConsentRecord? consent,
        IReadOnlyList<SendMark> sends, string? timeZone, PolicyRules rules, DateTimeOffset at)
    {
        if (consent is null)
        {
            if (rules.RequireConsentRecord)
                return Suppress(SuppressedBy.NoConsent, "no consent record for this customer");
            consent = new ConsentRecord(
                scenario.Channels.ToDictionary(ch => ch, _ => true), new Dictionary<string, bool> { [scenario.Purpose] = true },
                null, [], false, DateTimeOffset.MinValue);
        }
        if (consent.UnsubscribedAll) return Suppress(SuppressedBy.NoConsent, "the customer unsubscribed from all messages");
        var topic = scenario.Topics.FirstOrDefault(t => consent.OptOutTopics.Contains(t));
        if (topic is not null) return Suppress(SuppressedBy.OptOutTopic, $"the customer opted out of topic '{topic}'");
        if (!consent.AllowsPurpose(scenario.Purpose))
            return Suppress(SuppressedBy.NoConsent, $"no consent for purpose '{scenario.Purpose}'");
        var consented = scenario.Channels.Where(consent.AllowsChannel).ToArray();
        if (consented.Length == 0)
            return Suppress(SuppressedBy.NoConsent, $"no consent for any of {string.Join(", ", scenario.Channels)}");

        if (FrequencyCap.CustomerWide(sends, c.Scenario, consent, rules, at) is { } wide)
            return Suppress(SuppressedBy.FrequencyCap, wide);
        var capped = new List<string>();
        string? channel = null;
        foreach (var ch in consented)
        {
            if (FrequencyCap.Channel(sends, ch, rules, at) is { } why) { capped.Add(why); continue; }
            channel = ch;
            break;
        }
        if (channel is null) return Suppress(SuppressedBy.FrequencyCap, string.Join("; ", capped));

        if (rules.QuietHoursByChannel.TryGetValue(channel, out var quiet))
        {
            var zone = QuietHoursClock.Zone(timeZone, rules.DefaultTimeZone);
            if (QuietHoursClock.EndOfQuiet(quiet, at, zone) is { } until)
            {
                var window = $"{channel} quiet hours {quiet.Start:HH\\:mm}–{quiet.End:HH\\:mm} in {zone.Id}";
                if (scenario.MaxDeferral is { } max && until - c.FiredAt > max)
                    return Suppress(SuppressedBy.QuietHours,
                        $"{window} end later than the maximum deferral of {Durations.Describe(max)}", channel);
                return new PolicyVerdict(Outcome.Deferred, null, channel,
                    $"{window}: deferred until {until:yyyy-MM-dd'T'HH:mm:ss'Z'}", until);
            }
        }
        var fallback = channel == consented[0] ? "" : $" ({string.Join("; ", capped)})";
        return new PolicyVerdict(Outcome.Sent, null, channel, $"sent by {channel}{fallback}");

        static PolicyVerdict Suppress(string by, string why, string? channel = null) =>
            new(Outcome.Suppressed, by, channel, $"not sent: {why}");
    }
}
