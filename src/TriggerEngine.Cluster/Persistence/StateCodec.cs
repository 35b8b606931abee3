using System.Text.Json;
using MessagePack;
using MessagePack.Formatters;
using MessagePack.Resolvers;
using TriggerEngine.Cluster.Serialization;
using TriggerEngine.Core.Catalog;
using TriggerEngine.Core.Customers;
using TriggerEngine.Core.Decisions;
using TriggerEngine.Core.Events;

namespace TriggerEngine.Cluster.Persistence;

/// <summary>
/// The in-memory state of a customer or product entity as compact MessagePack, so that an entity can
/// checkpoint its state to a table instead of journaling every event. Core types carry no attributes
/// and fill get-only collections, so the state goes through private DTOs (int keys: arrays, no names).
/// The first element is the format version; a version this build does not know is refused, never guessed.
/// Decision and candidate payloads keep their CLR value types (see <see cref="PayloadFormatter"/>), so a
/// decoded customer writes the same decision JSON as the original.
/// </summary>
public static class StateCodec
{
    public const int FormatVersion = 1;

    private static readonly MessagePackSerializerOptions Options = MessagePackSerializerOptions.Standard
        .WithResolver(Resolver.Instance)
        .WithSecurity(MessagePackSecurity.UntrustedData);

    public static byte[] EncodeCustomer(CustomerState s)
    {
        var payloads = new PayloadsOut();
        var waiting = s.Arbitration.Waiting.ConvertAll(c => ToDto(c, payloads));
        var deferrals = s.Deferrals.ConvertAll(d => new DeferralDto(ToDto(d.Candidate, payloads), d.DecisionId, d.Until));
        var decisions = s.Decisions.ConvertAll(d => new DecisionDto(d.DecisionId,
            // Always the state's own id today; stored only when it is not, which costs nothing when it is.
            d.CustomerId == s.CustomerId ? null : d.CustomerId,
            d.Scenario, d.Outcome, d.SuppressedBy, d.Channel, d.Purpose, d.Priority, d.FiredAt, d.DecidedAt, d.Reason,
            d.BasedOn, payloads.Of(d.Payload), d.DeferredUntil));
        var dto = new CustomerDto(FormatVersion, s.Exists, s.MergedInto, s.TimeZone, s.LastEventAt, s.Traits,
            s.Seen.OldestFirst,
            s.History.ConvertAll(h => new HistoryDto(h.Event, h.Timestamp, h.MessageId)),
            s.AnonymousEvents,
            // Dictionaries go in their own order: browse eviction breaks ties by it, so the copy must iterate alike.
            s.Carts.Values.Select(c => new CartDto(c.CartId,
                // Nothing reads cart lines in dictionary order, so they go sorted: equal carts encode equally.
                c.Lines.Values.OrderBy(l => l.ProductId, StringComparer.Ordinal)
                    .Select(l => new CartLineDto(l.ProductId, l.Quantity, l.Price)).ToArray(),
                c.LastChangeAt, c.Status, c.RemindedAt, c.Evidence)).ToArray(),
            s.Browsing.Values.Select(w => new BrowseDto(w.ProductId,
                w.Views.ConvertAll(v => new ViewDto(v.At, v.DurationMs, v.MessageId)),
                w.Price, w.Category, w.LastFiredAt)).ToArray(),
            s.Products.Select(kv => new ProductMemoryDto(kv.Key, kv.Value.LastOrderedAt, kv.Value.FeedbackAt,
                kv.Value.Feedback, kv.Value.LastNotifiedPrice, kv.Value.ConsumptionDays, kv.Value.PackSize,
                kv.Value.Category)).ToArray(),
            s.Orders.Recent.ConvertAll(o => new OrderMarkDto(o.OrderId, o.At, o.MessageId)),
            s.Orders.CategoryCounts, s.Orders.FiredForOrderId,
            s.Refills.Values.Select(f => new RefillDto(f.ProductId, f.OrderedAt, f.Quantity, f.ConsumptionDays,
                f.PackSize, f.MessageId, f.Fired)).ToArray(),
            s.Welcomed, s.Arbitration.WindowEndsAt, waiting, deferrals,
            s.Sends.ConvertAll(m => new SendDto(m.At, m.Channel, m.Scenario, m.Purpose)),
            decisions, payloads.All, s.InterestProducts, s.DecisionCount, s.ClockAt);
        return MessagePackSerializer.Serialize(dto, Options);
    }

    public static CustomerState DecodeCustomer(string customerId, ReadOnlyMemory<byte> bytes)
    {
        CheckVersion(bytes, "customer");
        var dto = MessagePackSerializer.Deserialize<CustomerDto>(bytes, Options);
        var payloads = dto.Payloads;
        var s = new CustomerState(customerId)
        {
            Exists = dto.Exists, MergedInto = dto.MergedInto, TimeZone = dto.TimeZone, LastEventAt = dto.LastEventAt,
            Welcomed = dto.Welcomed, ClockAt = dto.ClockAt,
        };
        foreach (var (k, v) in dto.Traits) s.Traits.Add(k, v);
        // Oldest first, so the copy forgets the same ids, in the same order, as the original would have.
        foreach (var id in dto.Seen) s.Seen.Add(id);
        foreach (var h in dto.History) s.History.Add(new HistoryEntry(h.Event, h.At, s.Seen.Canonical(h.MessageId)));
        s.AnonymousEvents.AddRange(dto.AnonymousEvents);
        foreach (var c in dto.Carts)
        {
            var cart = new CartState(c.CartId) { LastChangeAt = c.LastChangeAt, Status = c.Status, RemindedAt = c.RemindedAt };
            foreach (var l in c.Lines) cart.Lines.Add(l.ProductId, new CartLine(l.ProductId, l.Quantity, l.Price));
            cart.Evidence.AddRange(c.Evidence);
            s.Carts.Add(c.CartId, cart);
        }
        foreach (var w in dto.Browsing)
        {
            var watch = new BrowseWatch(w.ProductId) { Price = w.Price, Category = w.Category, LastFiredAt = w.LastFiredAt };
            foreach (var v in w.Views) watch.Views.Add(new ProductView(v.At, v.DurationMs, s.Seen.Canonical(v.MessageId)));
            s.Browsing.Add(w.ProductId, watch);
        }
        foreach (var p in dto.Products)
            s.Products.Add(p.ProductId, new ProductMemory
            {
                LastOrderedAt = p.LastOrderedAt, FeedbackAt = p.FeedbackAt, Feedback = p.Feedback,
                LastNotifiedPrice = p.LastNotifiedPrice, ConsumptionDays = p.ConsumptionDays, PackSize = p.PackSize,
                Category = p.Category,
            });
        foreach (var o in dto.RecentOrders) s.Orders.Recent.Add(new OrderMark(o.OrderId, o.At, s.Seen.Canonical(o.MessageId)));
        foreach (var (k, v) in dto.CategoryCounts) s.Orders.CategoryCounts.Add(k, v);
        s.Orders.FiredForOrderId = dto.FiredForOrderId;
        foreach (var f in dto.Refills)
            s.Refills.Add(f.ProductId, new Refill(f.ProductId)
            {
                OrderedAt = f.OrderedAt, Quantity = f.Quantity, ConsumptionDays = f.ConsumptionDays, PackSize = f.PackSize,
                MessageId = s.Seen.Canonical(f.MessageId), Fired = f.Fired,
            });
        if (dto.InterestProducts is { } interests) s.InterestProducts.UnionWith(interests);
        s.Arbitration.WindowEndsAt = dto.WindowEndsAt;
        foreach (var c in dto.Waiting) s.Arbitration.Waiting.Add(FromDto(c, payloads));
        foreach (var d in dto.Deferrals) s.Deferrals.Add(new Deferral(FromDto(d.Candidate, payloads), d.DecisionId, d.Until));
        foreach (var m in dto.Sends) s.Sends.Add(new SendMark(m.At, m.Channel, m.Scenario, m.Purpose));
        foreach (var d in dto.Decisions)
            s.Decisions.Add(new TriggerDecision(d.DecisionId, d.CustomerId ?? customerId, d.Scenario, d.Outcome,
                d.SuppressedBy, d.Channel, d.Purpose, d.Priority, d.FiredAt, d.DecidedAt, d.Reason, d.BasedOn,
                payloads[d.Payload], d.DeferredUntil));
        // A state saved before the count was kept holds its records inline: they are the first ones.
        s.DecisionCount = Math.Max(dto.DecisionCount, s.Decisions.Count);
        return s;
    }

    /// <summary>One decision record on its own: an outbox row.</summary>
    public static byte[] EncodeDecision(TriggerDecision d)
    {
        var payloads = new PayloadsOut();
        var dto = new DecisionDto(d.DecisionId, d.CustomerId, d.Scenario, d.Outcome, d.SuppressedBy, d.Channel, d.Purpose,
            d.Priority, d.FiredAt, d.DecidedAt, d.Reason, d.BasedOn, payloads.Of(d.Payload), d.DeferredUntil);
        return MessagePackSerializer.Serialize(new OutboxDecisionDto(FormatVersion, dto, payloads.All), Options);
    }

    public static TriggerDecision DecodeDecision(ReadOnlyMemory<byte> bytes)
    {
        CheckVersion(bytes, "decision");
        var o = MessagePackSerializer.Deserialize<OutboxDecisionDto>(bytes, Options);
        var d = o.Decision;
        return new TriggerDecision(d.DecisionId, d.CustomerId ?? "", d.Scenario, d.Outcome, d.SuppressedBy, d.Channel, d.Purpose,
            d.Priority, d.FiredAt, d.DecidedAt, d.Reason, d.BasedOn, o.Payloads[d.Payload], d.DeferredUntil);
    }

    /// <summary>The product's own row: its catalog facts and what it owes, without the interests, which are rows of
    /// their own (<see cref="EncodeInterest"/>) so that a checkpoint writes only those that changed.</summary>
    /// <param name="owed">Notifications the product still owes customers, each with the log record it came from.</param>
    public static byte[] EncodeProduct(ProductState p, IReadOnlyCollection<OwedNotification>? owed = null) =>
        MessagePackSerializer.Serialize(new ProductDto(FormatVersion, p.Exists, p.Price, p.Currency, p.InStock,
            p.Category, p.PackSize, p.ConsumptionDays, p.UpdatedAt, [],
            owed?.Select(o => new OwedDto(o.Seq, o.CustomerId, o.Note)).ToArray() ?? []), Options);

    /// <summary>One customer's interest in a product (the customer id is in the row's key).</summary>
    public static byte[] EncodeInterest(Interest i) =>
        MessagePackSerializer.Serialize(new InterestDto("", i.LastAt, i.LowestSeenPrice, i.Evidence, i.WaitingSince, i.WaitingEvidence), Options);

    public static Interest DecodeInterest(ReadOnlyMemory<byte> bytes) => ToInterest(MessagePackSerializer.Deserialize<InterestDto>(bytes, Options));

    /// <summary>Interest steps written as a delta (<see cref="OwnedRows.Merge"/>): the product does not keep interests in
    /// memory, so it writes what happened and the store applies it to the row it has.</summary>
    public static byte[] EncodeInterestSteps(IEnumerable<InterestStep> steps) =>
        MessagePackSerializer.Serialize(steps.Select(st => new InterestStepDto(st.MessageId, st.At, st.SeenPrice, st.Waits)).ToArray(), Options);

    public static IEnumerable<InterestStep> DecodeInterestSteps(ReadOnlyMemory<byte> bytes) =>
        MessagePackSerializer.Deserialize<InterestStepDto[]>(bytes, Options).Select(d => new InterestStep(d.MessageId, d.At, d.SeenPrice, d.Waits));

    /// <summary>The stored interest (null: none yet) with the steps of <paramref name="delta"/> applied in order, as the
    /// product would have applied them to the interest in memory (a replayed messageId counts once).</summary>
    public static byte[] ApplyInterestSteps(byte[]? stored, byte[] delta) =>
        EncodeInterest(ProductCatalog.Apply(stored is null ? null : DecodeInterest(stored), DecodeInterestSteps(delta)));

    private static Interest ToInterest(InterestDto i)
    {
        var interest = new Interest { LastAt = i.LastAt, LowestSeenPrice = i.LowestSeenPrice, WaitingSince = i.WaitingSince };
        interest.Evidence.AddRange(i.Evidence);
        interest.WaitingEvidence.AddRange(i.WaitingEvidence);
        return interest;
    }

    public static ProductState DecodeProduct(string productId, ReadOnlyMemory<byte> bytes) =>
        DecodeProduct(productId, bytes, out _);

    public static ProductState DecodeProduct(string productId, ReadOnlyMemory<byte> bytes, out IReadOnlyList<OwedNotification> owed)
    {
        CheckVersion(bytes, "product");
        var dto = MessagePackSerializer.Deserialize<ProductDto>(bytes, Options);
        var p = new ProductState(productId)
        {
            Exists = dto.Exists, Price = dto.Price, Currency = dto.Currency, InStock = dto.InStock, Category = dto.Category,
            PackSize = dto.PackSize, ConsumptionDays = dto.ConsumptionDays, UpdatedAt = dto.UpdatedAt,
        };
        // Rows written before interests had rows of their own hold them here; the entity writes them out as rows.
        foreach (var i in dto.Interests) p.Interests.Add(i.CustomerId, ToInterest(i));
        owed = (dto.Owed ?? []).Select(o => new OwedNotification(o.Seq, o.CustomerId, o.Note)).ToArray();
        return p;
    }

    /// <summary>Reads only the leading version, so that a newer layout fails here with a plain message
    /// rather than somewhere inside the DTO.</summary>
    private static void CheckVersion(ReadOnlyMemory<byte> bytes, string what)
    {
        var reader = new MessagePackReader(bytes);
        if (bytes.IsEmpty || reader.NextMessagePackType != MessagePackType.Array || reader.ReadArrayHeader() == 0
            || reader.NextMessagePackType != MessagePackType.Integer)
            throw new InvalidDataException($"Not an encoded {what} state: no leading format version");
        var version = reader.ReadInt32();
        if (version != FormatVersion)
            throw new NotSupportedException(
                $"Encoded {what} state has format version {version}; this build reads version {FormatVersion} only");
    }

    private static CandidateDto ToDto(Candidate c, PayloadsOut payloads) =>
        new(c.Scenario, c.InstanceKey, c.FiredAt, c.Reason, c.BasedOn, payloads.Of(c.Payload));

    private static Candidate FromDto(CandidateDto c, List<IReadOnlyDictionary<string, object?>> payloads) =>
        new(c.Scenario, c.InstanceKey, c.FiredAt, c.Reason, c.BasedOn, payloads[c.Payload]);

    /// <summary>
    /// Each payload object stored once: a deferred decision, its final decision and the deferral share one
    /// payload, so it is written once and shared again after decoding.
    /// </summary>
    private sealed class PayloadsOut
    {
        private readonly Dictionary<object, int> _index = new(ReferenceEqualityComparer.Instance);
        public List<IReadOnlyDictionary<string, object?>> All { get; } = new();

        public int Of(IReadOnlyDictionary<string, object?> payload)
        {
            if (_index.TryGetValue(payload, out var i)) return i;
            _index.Add(payload, i = All.Count);
            All.Add(payload);
            return i;
        }
    }

    /// <summary>
    /// Payload values come back as the CLR types they went in as, because the decision JSON is written from
    /// them and the text depends on the type: System.Text.Json writes a DateTimeOffset as <c>"…+01:00"</c> but
    /// a JsonElement holding that same string as <c>"…\u002B01:00"</c>. Strings, booleans, ints, doubles, nulls
    /// and string-keyed maps are MessagePack's own; longs, decimals, instants and arrays are [tag, value]. Any
    /// other type goes as JSON and comes back a <see cref="JsonElement"/>: same JSON value, text not guaranteed.
    /// </summary>
    private sealed class PayloadFormatter : IMessagePackFormatter<IReadOnlyDictionary<string, object?>?>
    {
        private enum Tag { Long = 1, Decimal = 2, Instant = 3, Array = 4, MapArray = 5, Json = 6 }

        public void Serialize(ref MessagePackWriter writer, IReadOnlyDictionary<string, object?>? value,
            MessagePackSerializerOptions options)
        {
            if (value is null) writer.WriteNil();
            else WriteMap(ref writer, value, options);
        }

        public IReadOnlyDictionary<string, object?>? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options) =>
            reader.TryReadNil() ? null : ReadMap(ref reader, options);

        private static void WriteMap(ref MessagePackWriter w, IReadOnlyDictionary<string, object?> map,
            MessagePackSerializerOptions options)
        {
            w.WriteMapHeader(map.Count);
            foreach (var (key, value) in map)
            {
                w.Write(key);
                WriteValue(ref w, value, options);
            }
        }

        private static void WriteValue(ref MessagePackWriter w, object? value, MessagePackSerializerOptions options)
        {
            switch (value)
            {
                case null: w.WriteNil(); break;
                case string s: w.Write(s); break;
                case bool b: w.Write(b); break;
                case int i: w.Write(i); break;
                case double d: w.Write(d); break;
                case IReadOnlyDictionary<string, object?> map: WriteMap(ref w, map, options); break;
                case long l:
                    Tagged(ref w, Tag.Long);
                    w.Write(l);
                    break;
                case decimal m:
                    Tagged(ref w, Tag.Decimal);
                    DecimalFormatter.Instance.Serialize(ref w, m, options);
                    break;
                case DateTimeOffset t:
                    Tagged(ref w, Tag.Instant);
                    InstantFormatter.Instance.Serialize(ref w, t, options);
                    break;
                // Before object?[]: array covariance makes every array of maps one too.
                case Dictionary<string, object?>[] maps:
                    Tagged(ref w, Tag.MapArray);
                    w.WriteArrayHeader(maps.Length);
                    foreach (var map in maps) WriteMap(ref w, map, options);
                    break;
                case object?[] items when items.GetType() == typeof(object[]):
                    Tagged(ref w, Tag.Array);
                    w.WriteArrayHeader(items.Length);
                    foreach (var item in items) WriteValue(ref w, item, options);
                    break;
                default:
                    Tagged(ref w, Tag.Json);
                    w.Write(JsonSerializer.SerializeToUtf8Bytes(value, value.GetType()));
                    break;
            }
        }

        private static void Tagged(ref MessagePackWriter w, Tag tag)
        {
            w.WriteArrayHeader(2);
            w.Write((int)tag);
        }

        private static Dictionary<string, object?> ReadMap(ref MessagePackReader r, MessagePackSerializerOptions options)
        {
            options.Security.DepthStep(ref r);
            var count = r.ReadMapHeader();
            var map = new Dictionary<string, object?>(count);
            for (var i = 0; i < count; i++)
            {
                var key = r.ReadString() ?? throw new MessagePackSerializationException("Payload: null key");
                map.Add(key, ReadValue(ref r, options));
            }
            r.Depth--;
            return map;
        }

        private static object? ReadValue(ref MessagePackReader r, MessagePackSerializerOptions options)
        {
            switch (r.NextMessagePackType)
            {
                case MessagePackType.Nil: r.ReadNil(); return null;
                case MessagePackType.String: return r.ReadString();
                case MessagePackType.Boolean: return r.ReadBoolean();
                case MessagePackType.Integer: return r.ReadInt32();
                case MessagePackType.Float: return r.ReadDouble();
                case MessagePackType.Map: return ReadMap(ref r, options);
                case MessagePackType.Array: break;
                default: throw new MessagePackSerializationException($"Payload: unexpected {r.NextMessagePackType}");
            }
            if (r.ReadArrayHeader() != 2) throw new MessagePackSerializationException("Payload: expected [tag, value]");
            options.Security.DepthStep(ref r);
            object? value;
            switch ((Tag)r.ReadInt32())
            {
                case Tag.Long: value = r.ReadInt64(); break;
                case Tag.Decimal: value = DecimalFormatter.Instance.Deserialize(ref r, options); break;
                case Tag.Instant: value = InstantFormatter.Instance.Deserialize(ref r, options); break;
                case Tag.MapArray:
                {
                    var maps = new Dictionary<string, object?>[r.ReadArrayHeader()];
                    for (var i = 0; i < maps.Length; i++) maps[i] = ReadMap(ref r, options);
                    value = maps;
                    break;
                }
                case Tag.Array:
                {
                    var items = new object?[r.ReadArrayHeader()];
                    for (var i = 0; i < items.Length; i++) items[i] = ReadValue(ref r, options);
                    value = items;
                    break;
                }
                case Tag.Json:
                {
                    var json = new Utf8JsonReader(r.ReadBytes() ?? throw new MessagePackSerializationException("Payload: no JSON"));
                    // ParseValue copies into a document of its own (as Clone would): the element outlives this call.
                    value = JsonElement.ParseValue(ref json);
                    break;
                }
                default: throw new MessagePackSerializationException("Payload: unknown value tag");
            }
            r.Depth--;
            return value;
        }
    }

    /// <summary>
    /// The codec's own formatters, then the standard ones (private DTOs allowed). A static cache per type rather
    /// than CompositeResolver's lookup table: every field of every DTO asks the resolver, on every call.
    /// </summary>
    private sealed class Resolver : IFormatterResolver
    {
        public static readonly Resolver Instance = new();

        public IMessagePackFormatter<T>? GetFormatter<T>() => Cache<T>.Formatter;

        private static class Cache<T>
        {
            public static readonly IMessagePackFormatter<T>? Formatter =
                (IMessagePackFormatter<T>?)Own(typeof(T)) ?? StandardResolverAllowPrivate.Instance.GetFormatter<T>();
        }

        private static object? Own(Type t) =>
            t == typeof(DateTimeOffset) ? InstantFormatter.Instance
            : t == typeof(DateTimeOffset?) ? new StaticNullableFormatter<DateTimeOffset>(InstantFormatter.Instance)
            : t == typeof(CustomerEvent) ? new JournalEventFormatter()
            : t == typeof(IReadOnlyDictionary<string, object?>) ? new PayloadFormatter()
            : null;
    }

    /// <summary>[UtcTicks, offset minutes]: the exact instant and the offset it was written with (the decision
    /// JSON prints the instant, explain prints the offset), in 11 to 13 bytes.</summary>
    private sealed class InstantFormatter : IMessagePackFormatter<DateTimeOffset>
    {
        public static readonly InstantFormatter Instance = new();

        public void Serialize(ref MessagePackWriter writer, DateTimeOffset value, MessagePackSerializerOptions options)
        {
            writer.WriteArrayHeader(2);
            writer.Write(value.UtcTicks);
            writer.Write((short)value.Offset.TotalMinutes);
        }

        public DateTimeOffset Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
        {
            if (reader.ReadArrayHeader() != 2)
                throw new MessagePackSerializationException("Instant: expected [utcTicks, offsetMinutes]");
            var utcTicks = reader.ReadInt64();
            var offset = TimeSpan.FromMinutes(reader.ReadInt16());
            return new DateTimeOffset(utcTicks + offset.Ticks, offset);
        }
    }

    /// <summary>Customer events exactly as the journal writes them: one event format, already tested, for both.</summary>
    private sealed class JournalEventFormatter : IMessagePackFormatter<CustomerEvent?>
    {
        private static readonly IMessagePackFormatter<CustomerEvent?> Journal =
            MessagePackAkkaSerializer.Options.Resolver.GetFormatterWithVerify<CustomerEvent?>();

        public void Serialize(ref MessagePackWriter writer, CustomerEvent? value, MessagePackSerializerOptions options) =>
            Journal.Serialize(ref writer, value, MessagePackAkkaSerializer.Options);

        public CustomerEvent? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options) =>
            Journal.Deserialize(ref reader, MessagePackAkkaSerializer.Options);
    }

    // Format version 1. Append keys to evolve compatibly; anything else is a new FormatVersion.

    [MessagePackObject]
    private sealed record CustomerDto(
        [property: Key(0)] int Version,
        [property: Key(1)] bool Exists,
        [property: Key(2)] string? MergedInto,
        [property: Key(3)] string? TimeZone,
        [property: Key(4)] DateTimeOffset? LastEventAt,
        [property: Key(5)] Dictionary<string, string> Traits,
        [property: Key(6)] IReadOnlyCollection<string> Seen,
        [property: Key(7)] List<HistoryDto> History,
        [property: Key(8)] List<CustomerEvent> AnonymousEvents,
        [property: Key(9)] CartDto[] Carts,
        [property: Key(10)] BrowseDto[] Browsing,
        [property: Key(11)] ProductMemoryDto[] Products,
        [property: Key(12)] List<OrderMarkDto> RecentOrders,
        [property: Key(13)] Dictionary<string, int> CategoryCounts,
        [property: Key(14)] string? FiredForOrderId,
        [property: Key(15)] RefillDto[] Refills,
        [property: Key(16)] bool Welcomed,
        [property: Key(17)] DateTimeOffset? WindowEndsAt,
        [property: Key(18)] List<CandidateDto> Waiting,
        [property: Key(19)] List<DeferralDto> Deferrals,
        [property: Key(20)] List<SendDto> Sends,
        [property: Key(21)] List<DecisionDto> Decisions,
        [property: Key(22)] List<IReadOnlyDictionary<string, object?>> Payloads,
        [property: Key(23)] IReadOnlyCollection<string>? InterestProducts = null,
        [property: Key(24)] long DecisionCount = 0,
        [property: Key(25)] DateTimeOffset? ClockAt = null);

    [MessagePackObject]
    private sealed record HistoryDto([property: Key(0)] [property: MessagePackFormatter(typeof(NamePool.Formatter))] string Event, [property: Key(1)] DateTimeOffset At,
        [property: Key(2)] string MessageId);

    [MessagePackObject]
    private sealed record CartDto([property: Key(0)] string CartId, [property: Key(1)] CartLineDto[] Lines,
        [property: Key(2)] DateTimeOffset LastChangeAt, [property: Key(3)] CartStatus Status,
        [property: Key(4)] DateTimeOffset? RemindedAt, [property: Key(5)] List<string> Evidence);

    [MessagePackObject]
    private sealed record CartLineDto([property: Key(0)] [property: MessagePackFormatter(typeof(NamePool.Formatter))] string ProductId, [property: Key(1)] int Quantity,
        [property: Key(2)] decimal? Price);

    [MessagePackObject]
    private sealed record BrowseDto([property: Key(0)] [property: MessagePackFormatter(typeof(NamePool.Formatter))] string ProductId, [property: Key(1)] List<ViewDto> Views,
        [property: Key(2)] decimal? Price, [property: Key(3)] [property: MessagePackFormatter(typeof(NamePool.Formatter))] string? Category, [property: Key(4)] DateTimeOffset? LastFiredAt);

    [MessagePackObject]
    private sealed record ViewDto([property: Key(0)] DateTimeOffset At, [property: Key(1)] long? DurationMs,
        [property: Key(2)] string MessageId);

    [MessagePackObject]
    private sealed record ProductMemoryDto([property: Key(0)] [property: MessagePackFormatter(typeof(NamePool.Formatter))] string ProductId, [property: Key(1)] DateTimeOffset? LastOrderedAt,
        [property: Key(2)] DateTimeOffset? FeedbackAt, [property: Key(3)] string? Feedback,
        [property: Key(4)] decimal? LastNotifiedPrice, [property: Key(5)] double? ConsumptionDays,
        [property: Key(6)] [property: MessagePackFormatter(typeof(NamePool.Formatter))] string? PackSize, [property: Key(7)] [property: MessagePackFormatter(typeof(NamePool.Formatter))] string? Category);

    [MessagePackObject]
    private sealed record OrderMarkDto([property: Key(0)] string OrderId, [property: Key(1)] DateTimeOffset At,
        [property: Key(2)] string MessageId);

    [MessagePackObject]
    private sealed record RefillDto([property: Key(0)] [property: MessagePackFormatter(typeof(NamePool.Formatter))] string ProductId, [property: Key(1)] DateTimeOffset OrderedAt,
        [property: Key(2)] int Quantity, [property: Key(3)] double? ConsumptionDays, [property: Key(4)] [property: MessagePackFormatter(typeof(NamePool.Formatter))] string? PackSize,
        [property: Key(5)] string MessageId, [property: Key(6)] bool Fired);

    /// <summary><see cref="Payload"/> indexes <see cref="CustomerDto.Payloads"/>.</summary>
    [MessagePackObject]
    private sealed record CandidateDto([property: Key(0)] [property: MessagePackFormatter(typeof(NamePool.Formatter))] string Scenario, [property: Key(1)] string InstanceKey,
        [property: Key(2)] DateTimeOffset FiredAt, [property: Key(3)] string Reason,
        [property: Key(4)] IReadOnlyList<string> BasedOn, [property: Key(5)] int Payload);

    [MessagePackObject]
    private sealed record DeferralDto([property: Key(0)] CandidateDto Candidate, [property: Key(1)] string DecisionId,
        [property: Key(2)] DateTimeOffset Until);

    [MessagePackObject]
    private sealed record SendDto([property: Key(0)] DateTimeOffset At, [property: Key(1)] [property: MessagePackFormatter(typeof(NamePool.Formatter))] string Channel,
        [property: Key(2)] [property: MessagePackFormatter(typeof(NamePool.Formatter))] string? Scenario, [property: Key(3)] [property: MessagePackFormatter(typeof(NamePool.Formatter))] string? Purpose);

    /// <summary><see cref="CustomerId"/> null means the state's own; <see cref="Payload"/> indexes
    /// <see cref="CustomerDto.Payloads"/>.</summary>
    [MessagePackObject]
    private sealed record DecisionDto([property: Key(0)] string DecisionId, [property: Key(1)] string? CustomerId,
        [property: Key(2)] [property: MessagePackFormatter(typeof(NamePool.Formatter))] string Scenario, [property: Key(3)] [property: MessagePackFormatter(typeof(NamePool.Formatter))] string Outcome, [property: Key(4)] [property: MessagePackFormatter(typeof(NamePool.Formatter))] string? SuppressedBy,
        [property: Key(5)] [property: MessagePackFormatter(typeof(NamePool.Formatter))] string? Channel, [property: Key(6)] [property: MessagePackFormatter(typeof(NamePool.Formatter))] string Purpose, [property: Key(7)] int Priority,
        [property: Key(8)] DateTimeOffset FiredAt, [property: Key(9)] DateTimeOffset DecidedAt, [property: Key(10)] string Reason,
        [property: Key(11)] IReadOnlyList<string> BasedOn, [property: Key(12)] int Payload,
        [property: Key(13)] DateTimeOffset? DeferredUntil);

    [MessagePackObject]
    private sealed record ProductDto(
        [property: Key(0)] int Version,
        [property: Key(1)] bool Exists,
        [property: Key(2)] decimal? Price,
        [property: Key(3)] string? Currency,
        [property: Key(4)] bool? InStock,
        [property: Key(5)] string? Category,
        [property: Key(6)] string? PackSize,
        [property: Key(7)] double? ConsumptionDays,
        [property: Key(8)] DateTimeOffset? UpdatedAt,
        [property: Key(9)] InterestDto[] Interests,
        [property: Key(10)] OwedDto[]? Owed);

    [MessagePackObject]
    private sealed record OwedDto([property: Key(0)] long Seq, [property: Key(1)] string CustomerId,
        [property: Key(2)] CustomerEvent Note);

    [MessagePackObject]
    private sealed record InterestDto([property: Key(0)] string CustomerId, [property: Key(1)] DateTimeOffset LastAt,
        [property: Key(2)] decimal? LowestSeenPrice, [property: Key(3)] List<string> Evidence,
        [property: Key(4)] DateTimeOffset? WaitingSince, [property: Key(5)] List<string> WaitingEvidence);

    [MessagePackObject]
    private sealed record InterestStepDto([property: Key(0)] string MessageId, [property: Key(1)] DateTimeOffset At,
        [property: Key(2)] decimal? SeenPrice, [property: Key(3)] bool Waits);

    [MessagePackObject]
    private sealed record OutboxDecisionDto([property: Key(0)] int Version, [property: Key(1)] DecisionDto Decision,
        [property: Key(2)] List<IReadOnlyDictionary<string, object?>> Payloads);
}

/// <summary>A notification a product owes a customer, and the ingest-log record it came from.</summary>
public sealed record OwedNotification(long Seq, string CustomerId, CustomerEvent Note);
