namespace TriggerEngine.Core.Policy;

/// <summary>
/// The preference center's record for one customer (SPEC section 4). A channel or purpose missing
/// from the maps counts as not consented.
/// </summary>
public sealed record ConsentRecord(
    IReadOnlyDictionary<string, bool> Channels,
    IReadOnlyDictionary<string, bool> Purposes,
    int? MaxPerWeek,
    IReadOnlyList<string> OptOutTopics,
    bool UnsubscribedAll,
    DateTimeOffset UpdatedAt)
{
    public bool AllowsChannel(string channel) => Channels.TryGetValue(channel, out var ok) && ok;
    public bool AllowsPurpose(string purpose) => Purposes.TryGetValue(purpose, out var ok) && ok;

    /// <summary>Last writer by time wins: an update older than the stored record is ignored.</summary>
    public static bool Supersedes(ConsentRecord incoming, ConsentRecord? stored) =>
        stored is null || incoming.UpdatedAt >= stored.UpdatedAt;
}
