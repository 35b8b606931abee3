using System.Security.Cryptography;
using System.Text;

namespace TriggerEngine.Core.Decisions;

/// <summary>
/// Deterministic decision ids: the same customer, scenario, instance and firing instant give the
/// same id on every run and every node, so receivers can deduplicate.
/// </summary>
public static class DecisionIds
{
    public static string For(string customerId, string scenario, string instanceKey, DateTimeOffset firedAt)
    {
        var text = $"{customerId}\n{scenario}\n{instanceKey}\n{firedAt.UtcTicks}";
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), hash);
        // Shaped like a UUID (version 8, "custom") so that tools that expect one accept it.
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash[..16], bigEndian: true).ToString();
    }

    /// <summary>What a decision is delivered once under: a deferred record and its final record share a
    /// decisionId, and a decisionId has one final record at most.</summary>
    public static string DeliveryKey(string decisionId, string outcome) =>
        decisionId + (outcome == Outcome.Deferred ? "/deferred" : "/final");
}
