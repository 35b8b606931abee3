namespace TriggerEngine.Core.Policy;

/// <summary>Quiet hours in the customer's own time zone (IANA ids; unknown ids fall back to the default zone).</summary>
public static class QuietHoursClock
{
    public static TimeZoneInfo Zone(string? id, string fallback)
    {
        foreach (var candidate in new[] { id, fallback })
        {
            if (string.IsNullOrWhiteSpace(candidate)) continue;
            if (TimeZoneInfo.TryFindSystemTimeZoneById(candidate, out var tz)) return tz;
        }
        return TimeZoneInfo.Utc;
    }

    /// <summary>When <paramref name="at"/> falls in the quiet hours, the instant they end; otherwise null.</summary>
    public static DateTimeOffset? EndOfQuiet(QuietHours q, DateTimeOffset at, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(at, zone);
        var time = TimeOnly.FromDateTime(local.DateTime);
        var overnight = q.Start > q.End;
        bool inside = overnight ? time >= q.Start || time < q.End : time >= q.Start && time < q.End;
        if (!inside) return null;
        var endDate = DateOnly.FromDateTime(local.DateTime);
        if (overnight && time >= q.Start) endDate = endDate.AddDays(1);
        var endLocal = endDate.ToDateTime(q.End, DateTimeKind.Unspecified);
        // A wall time skipped by a DST jump does not exist: move past the gap.
        while (zone.IsInvalidTime(endLocal)) endLocal = endLocal.AddMinutes(30);
        return new DateTimeOffset(endLocal, zone.GetUtcOffset(endLocal)).ToUniversalTime();
    }
}
