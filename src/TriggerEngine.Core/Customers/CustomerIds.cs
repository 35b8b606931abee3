namespace TriggerEngine.Core.Customers;

/// <summary>
/// Entity keys: a known customer is keyed by <c>userId</c>; a visitor known only by <c>anonymousId</c>
/// gets a key of its own, so the two can never collide, until identify merges it.
/// </summary>
public static class CustomerIds
{
    public const string AnonymousPrefix = "anon:";
    public static string Anonymous(string anonymousId) => AnonymousPrefix + anonymousId;
    public static bool IsAnonymous(string customerId) => customerId.StartsWith(AnonymousPrefix, StringComparison.Ordinal);
}
