using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Buffers.Binary;

namespace TriggerEngine.Host.Api;

/// <summary>
/// Transcodes one MessagePack value into UTF-8 JSON, so MessagePack bodies go through the same parser and mapper
/// as JSON ones. Read with a span over the body and written straight into a byte buffer with
/// <see cref="Utf8JsonWriter"/>: MessagePack-CSharp's <c>ConvertToJson</c> builds a .NET string through a
/// <c>TextWriter</c> (~12 % of the engine's CPU at MessagePack batches of 500), and its sequence-based
/// <c>MessagePackReader</c> still cost ~8 %.
/// <para>Maps become objects (keys that are not strings are written as their JSON text), arrays arrays, binary
/// a base64 string, the timestamp extension (-1) an ISO-8601 UTC string, any other extension
/// <c>[typeCode, "base64"]</c>. Nesting deeper than <see cref="MaxDepth"/> (the JSON parser's own limit), a value
/// JSON cannot hold (NaN, infinities), bytes that are not UTF-8 or anything after the value is malformed.</para>
/// </summary>
public static class MessagePackJson
{
    public const int MaxDepth = 64;

    public sealed class MalformedException(string message) : Exception(message);

    public static void Transcode(ReadOnlyMemory<byte> msgpack, IBufferWriter<byte> output)
    {
        using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true });
        var reader = new Reader(msgpack.Span);
        try
        {
            WriteValue(ref reader, writer, 0);
        }
        catch (ArgumentException ex) { throw new MalformedException(ex.Message); }
        if (reader.Position != msgpack.Length) throw new MalformedException($"{msgpack.Length - reader.Position} bytes after the value");
        writer.Flush();
    }

    private static void WriteValue(ref Reader reader, Utf8JsonWriter writer, int depth)
    {
        if (depth > MaxDepth) throw new MalformedException($"nested deeper than {MaxDepth} levels");
        var code = reader.Byte();
        switch (code)
        {
            case <= 0x7f: writer.WriteNumberValue(code); return;                         // positive fixint
            case >= 0xe0: writer.WriteNumberValue((sbyte)code); return;                  // negative fixint
            case >= 0x80 and <= 0x8f: WriteMap(ref reader, writer, code & 0x0f, depth); return;
            case >= 0x90 and <= 0x9f: WriteArray(ref reader, writer, code & 0x0f, depth); return;
            case >= 0xa0 and <= 0xbf: WriteString(reader.Bytes(code & 0x1f), writer, propertyName: false); return;
            case 0xc0: writer.WriteNullValue(); return;
            case 0xc2: writer.WriteBooleanValue(false); return;
            case 0xc3: writer.WriteBooleanValue(true); return;
            case 0xc4: writer.WriteBase64StringValue(reader.Bytes(reader.Byte())); return;
            case 0xc5: writer.WriteBase64StringValue(reader.Bytes(reader.UInt16())); return;
            case 0xc6: writer.WriteBase64StringValue(reader.Bytes(reader.Length32())); return;
            case 0xc7: WriteExtension(ref reader, writer, reader.Byte()); return;
            case 0xc8: WriteExtension(ref reader, writer, reader.UInt16()); return;
            case 0xc9: WriteExtension(ref reader, writer, reader.Length32()); return;
            case 0xca: WriteDouble(BitConverter.Int32BitsToSingle((int)reader.UInt32()), writer); return;
            case 0xcb: WriteDouble(BitConverter.Int64BitsToDouble((long)reader.UInt64()), writer); return;
            case 0xcc: writer.WriteNumberValue(reader.Byte()); return;
            case 0xcd: writer.WriteNumberValue(reader.UInt16()); return;
            case 0xce: writer.WriteNumberValue(reader.UInt32()); return;
            case 0xcf: writer.WriteNumberValue(reader.UInt64()); return;
            case 0xd0: writer.WriteNumberValue((sbyte)reader.Byte()); return;
            case 0xd1: writer.WriteNumberValue((short)reader.UInt16()); return;
            case 0xd2: writer.WriteNumberValue((int)reader.UInt32()); return;
            case 0xd3: writer.WriteNumberValue((long)reader.UInt64()); return;
            case 0xd4: WriteExtension(ref reader, writer, 1); return;
            case 0xd5: WriteExtension(ref reader, writer, 2); return;
            case 0xd6: WriteExtension(ref reader, writer, 4); return;
            case 0xd7: WriteExtension(ref reader, writer, 8); return;
            case 0xd8: WriteExtension(ref reader, writer, 16); return;
            case 0xd9: WriteString(reader.Bytes(reader.Byte()), writer, propertyName: false); return;
            case 0xda: WriteString(reader.Bytes(reader.UInt16()), writer, propertyName: false); return;
            case 0xdb: WriteString(reader.Bytes(reader.Length32()), writer, propertyName: false); return;
            case 0xdc: WriteArray(ref reader, writer, reader.UInt16(), depth); return;
            case 0xdd: WriteArray(ref reader, writer, reader.Length32(), depth); return;
            case 0xde: WriteMap(ref reader, writer, reader.UInt16(), depth); return;
            case 0xdf: WriteMap(ref reader, writer, reader.Length32(), depth); return;
            default: throw new MalformedException($"unknown type code 0x{code:x2}"); // 0xc1, never used
        }
    }

    private static void WriteMap(ref Reader reader, Utf8JsonWriter writer, int count, int depth)
    {
        writer.WriteStartObject();
        for (var i = 0; i < count; i++)
        {
            WriteKey(ref reader, writer);
            WriteValue(ref reader, writer, depth + 1);
        }
        writer.WriteEndObject();
    }

    private static void WriteArray(ref Reader reader, Utf8JsonWriter writer, int count, int depth)
    {
        writer.WriteStartArray();
        for (var i = 0; i < count; i++) WriteValue(ref reader, writer, depth + 1);
        writer.WriteEndArray();
    }

    private static void WriteKey(ref Reader reader, Utf8JsonWriter writer)
    {
        var code = reader.Peek();
        switch (code)
        {
            case >= 0xa0 and <= 0xbf: reader.Byte(); WriteString(reader.Bytes(code & 0x1f), writer, propertyName: true); return;
            case 0xd9: reader.Byte(); WriteString(reader.Bytes(reader.Byte()), writer, propertyName: true); return;
            case 0xda: reader.Byte(); WriteString(reader.Bytes(reader.UInt16()), writer, propertyName: true); return;
            case 0xdb: reader.Byte(); WriteString(reader.Bytes(reader.Length32()), writer, propertyName: true); return;
            case <= 0x7f or >= 0xe0 or (>= 0xcc and <= 0xd3) or 0xc0 or 0xc2 or 0xc3:
            {
                // A scalar key: its JSON text becomes the property name.
                var scratch = new ArrayBufferWriter<byte>(32);
                using (var w = new Utf8JsonWriter(scratch)) WriteValue(ref reader, w, 0);
                writer.WritePropertyName(scratch.WrittenSpan); // the value's UTF-8 JSON text
                return;
            }
            default: throw new MalformedException($"a map key of type code 0x{code:x2}; keys must be strings");
        }
    }

    private static void WriteString(ReadOnlySpan<byte> utf8, Utf8JsonWriter writer, bool propertyName)
    {
        // As a JSON body with such bytes is refused by the parser; Utf8JsonWriter would put U+FFFD in their place.
        if (!System.Text.Unicode.Utf8.IsValid(utf8)) throw new MalformedException("a string that is not UTF-8");
        if (propertyName) writer.WritePropertyName(utf8);
        else writer.WriteStringValue(utf8);
    }

    private static void WriteDouble(double d, Utf8JsonWriter writer)
    {
        if (!double.IsFinite(d)) throw new MalformedException("a number JSON cannot hold (NaN or infinity)");
        writer.WriteNumberValue(d);
    }

    private static void WriteExtension(ref Reader reader, Utf8JsonWriter writer, int length)
    {
        var type = (sbyte)reader.Byte();
        var data = reader.Bytes(length);
        if (type == -1)
        {
            writer.WriteStringValue(Timestamp(data).ToString("O", CultureInfo.InvariantCulture));
            return;
        }
        writer.WriteStartArray();
        writer.WriteNumberValue(type);
        writer.WriteBase64StringValue(data);
        writer.WriteEndArray();
    }

    /// <summary>The MessagePack timestamp extension: 32-bit seconds, 30-bit nanoseconds + 34-bit seconds, or
    /// 32-bit nanoseconds + 64-bit signed seconds.</summary>
    private static DateTime Timestamp(ReadOnlySpan<byte> data)
    {
        long seconds;
        uint nanos;
        switch (data.Length)
        {
            case 4:
                seconds = BinaryPrimitives.ReadUInt32BigEndian(data);
                nanos = 0;
                break;
            case 8:
                var v = BinaryPrimitives.ReadUInt64BigEndian(data);
                nanos = (uint)(v >> 34);
                seconds = (long)(v & 0x3_ffff_ffffUL);
                break;
            case 12:
                nanos = BinaryPrimitives.ReadUInt32BigEndian(data);
                seconds = BinaryPrimitives.ReadInt64BigEndian(data[4..]);
                break;
            default:
                throw new MalformedException($"a timestamp extension of {data.Length} bytes");
        }
        if (nanos > 999_999_999) throw new MalformedException("a timestamp with more than 10^9 nanoseconds");
        try { return DateTime.UnixEpoch.AddSeconds(seconds).AddTicks(nanos / 100); }
        catch (ArgumentOutOfRangeException) { throw new MalformedException("a timestamp out of range"); }
    }

    /// <summary>Big-endian reads over the body; running past its end is malformed.</summary>
    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        public int Position { get; private set; }

        public byte Peek() => Position < _data.Length ? _data[Position] : throw Truncated();

        public byte Byte()
        {
            var b = Peek();
            Position++;
            return b;
        }

        public ReadOnlySpan<byte> Bytes(int length)
        {
            if (length < 0 || length > _data.Length - Position) throw Truncated();
            var span = _data.Slice(Position, length);
            Position += length;
            return span;
        }

        public ushort UInt16() => BinaryPrimitives.ReadUInt16BigEndian(Bytes(2));
        public uint UInt32() => BinaryPrimitives.ReadUInt32BigEndian(Bytes(4));
        public ulong UInt64() => BinaryPrimitives.ReadUInt64BigEndian(Bytes(8));

        /// <summary>A 32-bit length; anything past the body is refused by <see cref="Bytes"/> or the element loop.</summary>
        public int Length32()
        {
            var n = UInt32();
            return n > int.MaxValue ? throw Truncated() : (int)n;
        }

        private static MalformedException Truncated() => new("the body ends inside a value");
    }
}
