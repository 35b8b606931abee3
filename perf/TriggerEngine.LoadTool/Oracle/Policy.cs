namespace TriggerEngine.LoadTool.Oracle;

internal sealed partial class ReferenceOracle
{
    /// <summary>SPEC 4: consent, channel choice, caps, quiet hours, for the trigger that won arbitration, at <paramref name="at"/>.</summary>
    private void Decide(Customer c, Trigger t, DateTime at)
    {
        var def = S.Scenarios[t.Scenario];
        DecisionRecord Final(string outcome, string? by, string? channel) =>
            new(c.Id, t.Scenario, outcome, by, channel, t.FiredAt, at);

        _consent.TryGetValue(c.Id, out var consent);
        if (consent is null && S.RequireConsentRecord) { Decisions.Add(Final("suppressed", "no_consent", null)); return; }
        if (consent is not null && (consent.UnsubscribedAll || !consent.Purpose(def.Purpose)))
        { Decisions.Add(Final("suppressed", "no_consent", null)); return; }
        if (consent is not null && def.Topics.Any(consent.OptOutTopics.Contains))
        { Decisions.Add(Final("suppressed", "opt_out_topic", null)); return; }

        var consented = def.Channels.Where(ch => consent is null || consent.Channel(ch)).ToList();
        if (consented.Count == 0) { Decisions.Add(Final("suppressed", "no_consent", null)); return; }
        var channel = consented.FirstOrDefault(ch => !Capped(c, consent, ch, t.Scenario, at));
        if (channel is null) { Decisions.Add(Final("suppressed", "frequency_cap", null)); return; }

        if (QuietUntil(c, channel, at) is { } until)
        {
            if (def.MaxDeferral is { } max && until - at > max) { Decisions.Add(Final("suppressed", "quiet_hours", null)); return; }
            var rec = new DecisionRecord(c.Id, t.Scenario, "deferred", null, channel, t.FiredAt, at, until);
            Deferrals.Add(rec);
            c.Deferred.Add(new Deferral(t, until, rec));
            return;
        }
        c.Sends.Add((at, channel, t.Scenario));
        Decisions.Add(Final("sent", null, channel));
    }

    /// <summary>Is <paramref name="channel"/> capped for this scenario at <paramref name="at"/>? Rolling windows (at - per, at].</summary>
    private bool Capped(Customer c, ConsentRecord? consent, string channel, string scenario, DateTime at)
    {
        var messages = c.Sends.Select(s => (s.At, s.Channel)).Concat(c.External).Where(m => m.At <= at).ToList();
        int globalMax = S.GlobalMax;
        if (consent?.MaxPerWeek is { } mpw && mpw < globalMax) globalMax = mpw;
        if (messages.Count(m => m.At > at - S.GlobalPer) >= globalMax) return true;
        if (S.ChannelCaps.TryGetValue(channel, out var cap) && messages.Count(m => m.Channel == channel && m.At > at - cap.Per) >= cap.Max) return true;
        if (c.Sends.Any(s => s.Scenario == scenario && s.At <= at && s.At > at - S.ScenarioCooldown)) return true;
        if (messages.Any(m => m.At > at - S.MinimumGap)) return true;
        return false;
    }

    /// <summary>The end of the quiet hours when <paramref name="at"/> falls inside them in the customer's zone, else null.</summary>
    private DateTime? QuietUntil(Customer c, string channel, DateTime at)
    {
        if (!S.QuietHours.TryGetValue(channel, out var q)) return null;
        var zone = FindZone(c.TimeZone ?? S.DefaultTimeZone);
        var local = TimeZoneInfo.ConvertTimeFromUtc(at, zone);
        var tod = local.TimeOfDay;
        bool wraps = q.Start > q.End;
        bool quiet = wraps ? tod >= q.Start || tod < q.End : tod >= q.Start && tod < q.End;
        if (!quiet) return null;
        var endDate = local.Date;
        if (wraps && tod >= q.Start) endDate = endDate.AddDays(1);
        var endLocal = DateTime.SpecifyKind(endDate + q.End, DateTimeKind.Unspecified);
        while (zone.IsInvalidTime(endLocal)) endLocal = endLocal.AddMinutes(1);
        return TimeZoneInfo.ConvertTimeToUtc(endLocal, zone);
    }

    private static readonly Dictionary<string, TimeZoneInfo> Zones = new(StringComparer.Ordinal);

    private static TimeZoneInfo FindZone(string id)
    {
        lock (Zones)
        {
            if (Zones.TryGetValue(id, out var z)) return z;
            try { z = TimeZoneInfo.FindSystemTimeZoneById(id); } catch (TimeZoneNotFoundException) { z = TimeZoneInfo.Utc; }
            return Zones[id] = z;
        }
    }
}
