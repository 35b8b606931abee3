using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MessagePack;
using TriggerEngine.Host.Api;

namespace TriggerEngine.Host.Tests;

/// <summary>The MessagePack → JSON transcoder that MessagePack request bodies go through (pure, no server).</summary>
public sealed class MessagePackJsonTests
{
    private static string Transcode(byte[] msgpack)
    {
        var output = new ArrayBufferWriter<byte>();
        MessagePackJson.Transcode(msgpack, output);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    private static byte[] Pack(Action<MessagePackWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var w = new MessagePackWriter(buffer);
        write(w);
        return buffer.WrittenSpan.ToArray();
    }

    [Fact]
    public void Given_a_Segment_batch_When_transcoded_Then_it_is_the_same_JSON_as_the_library_conversion()
    {
        const string json = """
            {"batch":[{"type":"track","userId":"u1","messageId":"m-\"1\"\\x","event":"Product Viewed",
            "timestamp":"2030-01-07T00:00:00.000Z","properties":{"product_id":"p/1","price":19.99,"quantity":3,
            "big":18446744073709551615,"neg":-9223372036854775808,"in_stock":true,"note":null,"name":"Ünïcødé ☕ 😀",
            "tags":["a",1,2.5,false,null,{"deep":[[]]}]},"context":{"timezone":"Europe/Berlin"}}]}
            """;
        var packed = MessagePackSerializer.ConvertFromJson(json);

        var ours = JsonNode.Parse(Transcode(packed));
        var library = JsonNode.Parse(MessagePackSerializer.ConvertToJson(packed));

        Assert.True(JsonNode.DeepEquals(library, ours), $"{ours}\n!=\n{library}");
        Assert.Equal("Ünïcødé ☕ 😀", ours!["batch"]![0]!["properties"]!["name"]!.GetValue<string>());
        Assert.Equal(18446744073709551615UL, ours["batch"]![0]!["properties"]!["big"]!.GetValue<ulong>());
    }

    [Theory]
    [InlineData("2030-01-07T12:30:15Z")]        // 32-bit seconds
    [InlineData("2030-01-07T12:30:15.250Z")]    // 64-bit: nanoseconds and seconds
    [InlineData("1969-07-20T20:17:40.5Z")]      // 96-bit: before 1970
    public void Given_a_timestamp_extension_When_transcoded_Then_it_is_an_ISO_8601_UTC_string(string iso)
    {
        var at = DateTime.Parse(iso, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AdjustToUniversal);
        var packed = Pack(w => { w.WriteMapHeader(1); w.Write("timestamp"); w.Write(at); w.Flush(); });

        var doc = JsonDocument.Parse(Transcode(packed));

        Assert.Equal(at, doc.RootElement.GetProperty("timestamp").GetDateTime().ToUniversalTime());
    }

    [Fact]
    public void Given_binary_and_non_string_keys_When_transcoded_Then_binary_is_base64_and_keys_are_their_text()
    {
        var packed = Pack(w =>
        {
            w.WriteMapHeader(2);
            w.Write(7);
            w.Write(new byte[] { 1, 2, 3 });
            w.Write(true);
            w.WriteNil();
            w.Flush();
        });

        Assert.Equal("""{"7":"AQID","true":null}""", Transcode(packed));
    }

    public static TheoryData<string, byte[]> MalformedBodies() => new()
    {
        { "truncated map", Pack(w => { w.WriteMapHeader(2); w.Write("a"); w.Write(1); w.Flush(); }) },
        { "bytes after the value", Pack(w => { w.WriteMapHeader(0); w.Write(1); w.Flush(); }) },
        { "string that is not UTF-8", Pack(w => { w.WriteMapHeader(1); w.Write("k"); w.WriteString(new byte[] { 0xff, 0xfe }); w.Flush(); }) },
        { "NaN", Pack(w => { w.WriteMapHeader(1); w.Write("k"); w.Write(double.NaN); w.Flush(); }) },
        { "map as a key", Pack(w => { w.WriteMapHeader(1); w.WriteMapHeader(0); w.Write(1); w.Flush(); }) },
        { "nested 100 deep", Pack(w => { for (var i = 0; i < 100; i++) w.WriteArrayHeader(1); w.WriteNil(); w.Flush(); }) },
        { "reserved type code", [0xc1] },
    };

    [Theory]
    [MemberData(nameof(MalformedBodies))]
    public void Given_malformed_MessagePack_When_transcoded_Then_it_is_refused_as_malformed(string what, byte[] body)
    {
        var ex = Assert.Throws<MessagePackJson.MalformedException>(() => Transcode(body));
        Assert.False(string.IsNullOrWhiteSpace(ex.Message), what);
    }
}
