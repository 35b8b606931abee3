namespace TriggerEngine.Core.Scenarios;

/// <summary>Earliest of optional instants. Plain loops over the state: <c>NextDue</c> runs several times per
/// event, so it allocates nothing.</summary>
internal static class Due
{
    public static DateTimeOffset? Earlier(DateTimeOffset? a, DateTimeOffset? b) =>
        a is not { } x ? b : b is not { } y ? a : x <= y ? x : y;
}
