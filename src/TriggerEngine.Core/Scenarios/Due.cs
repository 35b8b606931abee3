namespace TriggerEngine.Core.Scenarios;

internal static class Due
{
    public static DateTimeOffset? Min(IEnumerable<DateTimeOffset?> dues)
    {
        DateTimeOffset? min = null;
        foreach (var d in dues)
            if (d is { } v && (min is null || v < min)) min = v;
        return min;
    }

    public static DateTimeOffset? Min(params DateTimeOffset?[] dues) => Min((IEnumerable<DateTimeOffset?>)dues);
}
