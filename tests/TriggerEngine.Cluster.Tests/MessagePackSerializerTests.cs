using System.Text.Json;
using Akka.Actor;
using TriggerEngine.Cluster.Customers;
using TriggerEngine.Cluster.Entities;
using TriggerEngine.Cluster.Ingest;
using TriggerEngine.Cluster.Timers;
using TriggerEngine.Core.Customers;
using TriggerEngine.Cluster.Products;
using TriggerEngine.Cluster.Serialization;
using TriggerEngine.Core.Events;
using TriggerEngine.Core.Policy;

namespace TriggerEngine.Cluster.Tests;

/// <summary>Every ingest-log record and message survives the MessagePack round trip unchanged.</summary>
public sealed class MessagePackSerializerTests : IDisposable
{
    private static readonly DateTimeOffset T = new(2030, 1, 7, 10, 0, 0, TimeSpan.FromHours(1));
    private readonly ActorSystem _system = ActorSystem.Create("serializer-tests");
    private readonly MessagePackAkkaSerializer _serializer;

    public MessagePackSerializerTests() => _serializer = new MessagePackAkkaSerializer((ExtendedActorSystem)_system);

    private static readonly ConsentRecord Consent = new(new Dictionary<string, bool> { ["email"] = true, ["sms"] = false },
        new Dictionary<string, bool> { ["cart_reminders"] = true }, 3, ["mothers_day"], false, T);

    public static TheoryData<string, CustomerEvent> Events() => new()
    {
        { "viewed", new ProductViewed("m1", T, "p1", 10.5m, "shoes", 1200) { TimeZone = "Europe/Paris" } },
        { "added", new ProductAdded("m2", T, "p1", 2, 10.5m, "cart-1") },
        { "removed", new ProductRemoved("m3", T, "p1", null, "cart-1") },
        { "cartviewed", new CartViewed("m3b", T, "Checkout Started", "cart-1", [new CartItem("p1", 2, 10m)]) },
        { "order", new OrderCompleted("m4", T, "o1", "cart-1", 21m, [new OrderLine("p1", 2, 10.5m, "shoes", "XL", 30)]) },
        { "subscribed", new ProductSubscribed("m5", T, "p1") },
        { "feedback", new TriggerFeedback("m6", T, "p1", "not_interested") },
        { "sent", new MessageSent("m7", T, "sms", "promotions") },
        { "signup", new SignedUp("m8", T, "Newsletter Subscribed") },
        { "identify", new Identified("m9", T, new Dictionary<string, string> { ["email"] = "a@b.c" }) },
        { "other", new OtherEvent("m10", T, "Coupon Applied") },
        { "pricedrop", new PriceDropped("m11", T, "p1", 8m, 10m, T.AddDays(-1), ["m1", "m2"], "shoes") },
        { "restock", new BackInStock("m12", T, "p1", T.AddDays(-2), ["m5"], 9m, null) },
        { "facts", new ProductFacts("m13", T, "p1", 30, "XL", "shoes") },
    };

    [Theory]
    [MemberData(nameof(Events))]
    public void Given_a_logged_customer_event_When_round_tripped_Then_it_is_unchanged(string kind, CustomerEvent e)
    {
        var recorded = new CallsRecord([new LoggedCall("alice", e, null)], T);
        var back = RoundTrip(recorded);
        Assert.Equal(Json(recorded), Json(back));
        Assert.Equal(e.GetType(), back.Calls[0].Event.GetType());
        Assert.Equal(e.TimeZone, back.Calls[0].Event.TimeZone);
        Assert.False(string.IsNullOrEmpty(kind));
    }

    [Fact]
    public void Given_each_log_record_and_message_type_When_round_tripped_Then_it_is_unchanged()
    {
        object[] samples =
        [
            new CallsRecord([new LoggedCall("alice", new SignedUp("m0", T, "Signed Up"), "anon:x")], null),
            new CatalogRecord([new CatalogUpdate("p1", 9.99m, "EUR", true, "shoes", "XL", 30, T)]),
            new LogMark(12),
            new ForgetCustomer("p1", "alice"),
            new IngestEvents("alice", [new SignedUp("m1", T, "Signed Up")], 7, T, "anon:x"),
            new EventsIngested("alice", 1, 0, 7, ["anon:x"], ["p1"]),
            new ApplyFailed(7, "alice", "the merge timed out"),
            new AdvanceCustomer("alice", T),
            new CustomerAdvanced("alice", null),
            new MergeAnonymousProfile("alice", "anon:x", 7),
            new HandOverProfile("anon:x", "alice"),
            new ProfileHandedOver([]),
            new ExplainCustomer("alice"),
            new EraseCustomer("alice"),
            new CustomerErased("alice", ["p1"]),
            new RecordInterests("p1", [new InterestShown("alice", InterestKind.Viewed, "m1", T, null)]),
            new UpdateCatalog("p1", [new CatalogUpdate("p1", null, null, false, null, null, null, T)]),
            new ProductAck("p1", 3, ["alice"]),
            new MergeInterests("p1", "anon:x", "alice"),
            new Checkpoint("alice", 4),
            new Checkpointed(4, true),
            StopEntity.Instance,
            PassivateForRoom.Instance,
            new MarkDirty(EntityKind.Product, "p1"),
            new WakeAt("alice", T),
            new CustomerAsleep("alice"),
            new CustomerExplanation("alice", true, null, "Europe/Paris", T, new Dictionary<string, string> { ["email"] = "a@b.c" },
                [new HistoryEntry("Signed Up", T, "m1")], [], T, [], [new SendMark(T, "email", "welcome", "welcome")], []),
        ];
        Assert.Equal(MessagePackAkkaSerializer.Manifests.Count, samples.Length);
        foreach (var sample in samples)
        {
            var back = RoundTrip(sample);
            Assert.Equal(sample.GetType(), back.GetType());
            Assert.Equal(Json(sample), Json(back));
        }
    }

    [Fact]
    public void Given_an_unknown_manifest_When_deserialized_Then_it_fails_loudly()
    {
        Assert.ThrowsAny<Exception>(() => _serializer.FromBinary([0x90], "no-such-manifest"));
    }

    private T RoundTrip<T>(T value) where T : notnull =>
        (T)_serializer.FromBinary(_serializer.ToBinary(value), _serializer.Manifest(value));

    private static string Json(object o) => JsonSerializer.Serialize(o, o.GetType());

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));
}
