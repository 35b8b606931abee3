using MessagePack;
using MessagePack.Formatters;

namespace TriggerEngine.Cluster.Persistence;

/// <summary>
/// One string instance per name that recurs across customers (event names, product ids, categories, channels,
/// scenarios) when states are decoded. Customers rest encoded and are decoded again at their next message, so without
/// it every decode made its own copies, which live as long as the state and are traced and promoted with it. A fixed
/// table, not an unbounded intern pool: a slot holds the last name that hashed to it, so ids of unbounded variety only
/// cost a miss. Lock-free: a slot is one reference to an immutable entry.
/// </summary>
public static class NamePool
{
    private const int Slots = 1 << 16;
    private const int LongestPooled = 128;
    private static readonly Entry?[] Table = new Entry?[Slots];

    private sealed record Entry(byte[] Utf8, string Value);

    /// <summary>The pooled instance for these UTF-8 bytes, made and pooled if the slot holds another name.</summary>
    public static string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > LongestPooled) return System.Text.Encoding.UTF8.GetString(utf8);
        var hash = new HashCode();
        hash.AddBytes(utf8);
        var slot = hash.ToHashCode() & (Slots - 1);
        var entry = Volatile.Read(ref Table[slot]);
        if (entry is not null && utf8.SequenceEqual(entry.Utf8)) return entry.Value;
        var value = System.Text.Encoding.UTF8.GetString(utf8);
        Volatile.Write(ref Table[slot], new Entry(utf8.ToArray(), value));
        return value;
    }

    /// <summary>For a DTO member holding such a name: reads it through the pool, writes it as any string.</summary>
    public sealed class Formatter : IMessagePackFormatter<string?>
    {
        public void Serialize(ref MessagePackWriter writer, string? value, MessagePackSerializerOptions options) => writer.Write(value);

        public string? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
        {
            if (reader.TryReadNil()) return null;
            if (reader.TryReadStringSpan(out var span)) return Get(span);
            var sequence = reader.ReadStringSequence();
            return sequence is { } s ? Get(System.Buffers.BuffersExtensions.ToArray(s)) : null;
        }
    }
}
