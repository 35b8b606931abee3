using Akka.Actor;
using Akka.Serialization;
using MessagePack;
using MessagePack.Formatters;
using MessagePack.Resolvers;
using TriggerEngine.Cluster.Customers;
using TriggerEngine.Cluster.Entities;
using TriggerEngine.Cluster.Ingest;
using TriggerEngine.Cluster.Timers;
using TriggerEngine.Cluster.Products;
using TriggerEngine.Core.Events;

namespace TriggerEngine.Cluster.Serialization;

/// <summary>
/// Akka serializer for every message and ingest-log record of the engine: MessagePack, with a short
/// string manifest per type. Core records carry no attributes; this is the one place that knows the
/// wire format. The manifests are part of the journal format: never rename one.
/// </summary>
public sealed class MessagePackAkkaSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int Id = 7301;

    public static readonly IReadOnlyDictionary<string, Type> Manifests = new Dictionary<string, Type>
    {
        ["l.calls"] = typeof(CallsRecord),
        ["l.catalog"] = typeof(CatalogRecord),
        ["l.mark"] = typeof(LogMark),
        ["m.ingest"] = typeof(IngestEvents),
        ["m.ingested"] = typeof(EventsIngested),
        ["m.advance"] = typeof(AdvanceCustomer),
        ["m.advanced"] = typeof(CustomerAdvanced),
        ["m.merge"] = typeof(MergeAnonymousProfile),
        ["m.handover"] = typeof(HandOverProfile),
        ["m.handedover"] = typeof(ProfileHandedOver),
        ["m.explain"] = typeof(ExplainCustomer),
        ["m.erase"] = typeof(EraseCustomer),
        ["m.erased"] = typeof(CustomerErased),
        ["m.interests"] = typeof(RecordInterests),
        ["m.catalog"] = typeof(UpdateCatalog),
        ["m.pack"] = typeof(ProductAck),
        ["m.mergeinterests"] = typeof(MergeInterests),
        ["m.applyfailed"] = typeof(ApplyFailed),
        ["m.forget"] = typeof(ForgetCustomer),
        ["m.checkpoint"] = typeof(Checkpoint),
        ["m.checkpointed"] = typeof(Checkpointed),
        ["m.stop"] = typeof(StopEntity),
        ["m.makeroom"] = typeof(PassivateForRoom),
        ["m.dirty"] = typeof(MarkDirty),
        ["m.wakeat"] = typeof(WakeAt),
        ["m.asleep"] = typeof(CustomerAsleep),
        ["m.explained"] = typeof(CustomerExplanation),
    };

    private static readonly Dictionary<Type, string> ManifestByType = Manifests.ToDictionary(kv => kv.Value, kv => kv.Key);

    public static readonly MessagePackSerializerOptions Options = MessagePackSerializerOptions.Standard
        .WithResolver(CompositeResolver.Create([new CustomerEventFormatter()], [ContractlessStandardResolver.Instance]))
        .WithSecurity(MessagePackSecurity.UntrustedData);

    public override int Identifier => Id;

    public override string Manifest(object o) =>
        ManifestByType.TryGetValue(o.GetType(), out var m) ? m : throw new ArgumentException($"No manifest for {o.GetType()}");

    public override byte[] ToBinary(object obj) => MessagePackSerializer.Serialize(obj.GetType(), obj, Options);

    public override object FromBinary(byte[] bytes, string manifest) =>
        Manifests.TryGetValue(manifest, out var type)
            ? MessagePackSerializer.Deserialize(type, bytes, Options)!
            : throw new System.Runtime.Serialization.SerializationException($"Unknown manifest '{manifest}'");
}

/// <summary>The <see cref="CustomerEvent"/> family as [kind, body]: a union without attributes on Core types.</summary>
public sealed class CustomerEventFormatter : IMessagePackFormatter<CustomerEvent?>
{
    private static readonly Dictionary<string, Type> Kinds = new()
    {
        ["viewed"] = typeof(ProductViewed),
        ["added"] = typeof(ProductAdded),
        ["removed"] = typeof(ProductRemoved),
        ["cartviewed"] = typeof(CartViewed),
        ["order"] = typeof(OrderCompleted),
        ["subscribed"] = typeof(ProductSubscribed),
        ["feedback"] = typeof(TriggerFeedback),
        ["sent"] = typeof(MessageSent),
        ["signup"] = typeof(SignedUp),
        ["identify"] = typeof(Identified),
        ["other"] = typeof(OtherEvent),
        ["pricedrop"] = typeof(PriceDropped),
        ["restock"] = typeof(BackInStock),
        ["facts"] = typeof(ProductFacts),
    };

    private static readonly Dictionary<Type, string> KindByType = Kinds.ToDictionary(kv => kv.Value, kv => kv.Key);

    public void Serialize(ref MessagePackWriter writer, CustomerEvent? value, MessagePackSerializerOptions options)
    {
        if (value is null) { writer.WriteNil(); return; }
        writer.WriteArrayHeader(3);
        writer.Write(KindByType[value.GetType()]);
        writer.Write(value.TimeZone);
        MessagePackSerializer.Serialize(value.GetType(), ref writer, value, options);
    }

    public CustomerEvent? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil()) return null;
        var count = reader.ReadArrayHeader();
        if (count != 3) throw new MessagePackSerializationException($"CustomerEvent: expected 3 fields, saw {count}");
        var kind = reader.ReadString() ?? throw new MessagePackSerializationException("CustomerEvent: no kind");
        var timeZone = reader.ReadString();
        var type = Kinds.TryGetValue(kind, out var t) ? t : throw new MessagePackSerializationException($"Unknown event kind '{kind}'");
        var e = (CustomerEvent)MessagePackSerializer.Deserialize(type, ref reader, options)!;
        return timeZone is null ? e : e with { TimeZone = timeZone };
    }
}
