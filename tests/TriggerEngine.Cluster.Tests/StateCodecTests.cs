using System.Globalization;
using System.Text.Json;
using MessagePack;
using TriggerEngine.Adapters.Json;
using TriggerEngine.Cluster.Persistence;
using TriggerEngine.Core.Catalog;
using TriggerEngine.Core.Customers;
using TriggerEngine.Core.Decisions;
using TriggerEngine.Core.Events;
using TriggerEngine.Core.Policy;
using TriggerEngine.Core.Scenarios;
using BackInStockEvent = TriggerEngine.Core.Events.BackInStock;

namespace TriggerEngine.Cluster.Tests;

/// <summary>A checkpointed state is the state: what comes back behaves exactly like what went in.</summary>
public sealed class StateCodecTests
{
    /// <summary>Wednesday 2025-01-15 09:00 in Paris, written with its +01:00 offset so that offsets are exercised.</summary>
    private static readonly DateTimeOffset T0 = new(2025, 1, 15, 9, 0, 0, TimeSpan.FromHours(1));

    /// <summary>22:30 the same evening in Paris: quiet hours for sms and push.</summary>
    private static readonly DateTimeOffset ParisEvening = new(2025, 1, 15, 22, 30, 0, TimeSpan.FromHours(1));

    private static readonly DateTimeOffset FarFuture = T0.AddDays(400);
    private static readonly TimeSpan Lookback = ScenarioRules.Default.PriceDrop.Lookback;

    private static readonly ConsentRecord AllConsented = Consent(["email", "sms", "push"]);
    private static readonly ConsentRecord SmsOnly = Consent(["sms"]);

    /// <summary>A second reminder a day after the first, so that a reminded cart still has a timer.</summary>
    private static readonly ScenarioRules WithFollowUp = ScenarioRules.Default with
    {
        AbandonedCart = ScenarioRules.Default.AbandonedCart with { FollowUp = TimeSpan.FromDays(1) },
    };

    /// <summary>Default rules and policy, so candidates wait the SPEC's one-minute arbitration window.</summary>
    private static JourneyContext Context(ConsentRecord? consent, ScenarioRules? rules = null, PolicyRules? policy = null) =>
        new(rules ?? WithFollowUp, policy ?? PolicyRules.Default, consent);

    /// <summary>A step of a journey: an event, or the clock moving on.</summary>
    private sealed record Advance(DateTimeOffset Until);

    [Fact]
    public void Given_a_customer_after_a_realistic_journey_When_encoded_decoded_and_encoded_again_Then_the_bytes_are_identical()
    {
        var s = new CustomerState(Visitor);
        foreach (var step in RealisticJourney) Run(s, step, Context(AllConsented));
        s.MergedInto = "alice";
        // The journey has to reach every part of the state, or the round trip proves little.
        Assert.NotEmpty(s.Traits);
        Assert.NotEmpty(s.AnonymousEvents);
        Assert.Contains(s.Carts.Values, c => c.Status == CartStatus.Reminded && c.RemindedAt is not null);
        Assert.Contains(s.Browsing.Values, w => w.LastFiredAt is not null);
        Assert.Contains(s.Products.Values, m => m.Feedback is not null);
        Assert.Contains(s.Products.Values, m => m.LastNotifiedPrice is not null);
        Assert.NotEmpty(s.Refills);
        Assert.NotEmpty(s.Orders.CategoryCounts);
        Assert.Equal(2, s.Arbitration.Waiting.Count);
        Assert.NotNull(s.Arbitration.WindowEndsAt);
        Assert.Single(s.Deferrals);
        Assert.NotEmpty(s.Sends);
        Assert.Contains(s.Decisions, d => d.DeferredUntil is not null);

        var bytes = StateCodec.EncodeCustomer(s);
        var copy = StateCodec.DecodeCustomer(s.CustomerId, bytes);

        Assert.Equal(bytes, StateCodec.EncodeCustomer(copy));
        Assert.Equal(Describe(s), Describe(copy));
    }

    [Fact]
    public void Given_two_customers_decoded_When_they_hold_the_same_names_and_messageIds_Then_each_is_one_string_instance()
    {
        var s = new CustomerState(Visitor);
        foreach (var step in RealisticJourney) Run(s, step, Context(AllConsented));
        var bytes = StateCodec.EncodeCustomer(s);
        var (a, b) = (StateCodec.DecodeCustomer(s.CustomerId, bytes), StateCodec.DecodeCustomer(s.CustomerId, bytes));
        Assert.NotEmpty(a.History);
        Assert.NotEmpty(a.Browsing);

        // Names recur across customers: both copies share them.
        Assert.Same(a.History[0].Event, b.History[0].Event);
        var product = a.Browsing.Keys.First();
        Assert.Same(a.Browsing[product].ProductId, b.Browsing[product].ProductId);
        Assert.Same(a.Sends[0].Channel, b.Sends[0].Channel);
        // A messageId is one string within a state, shared by its dedup memory and its history.
        var entry = a.History[^1];
        Assert.True(a.Seen.Contains(entry.MessageId));
        Assert.Same(a.Seen.OldestFirst.First(id => id == entry.MessageId), entry.MessageId);
        // Unique ids are not pooled across states.
        Assert.NotSame(a.History[^1].MessageId, b.History[^1].MessageId);
    }

    public static TheoryData<string> Journeys() => new(JourneysByName.Keys);

    /// <summary>Split before every step in turn: the original runs on, a decoded copy takes over from the split.</summary>
    [Theory]
    [MemberData(nameof(Journeys))]
    public void Given_a_journey_checkpointed_at_any_step_When_replayed_on_from_the_decoded_copy_Then_decisions_and_due_times_match(
        string journey)
    {
        var (customerId, ctx, expect, steps) = JourneysByName[journey];
        var original = Play(customerId, ctx, steps, splitAt: null);
        Assert.Contains(original.Outputs, o => o.Contains(expect));

        for (var split = 0; split <= steps.Count; split++)
        {
            var resumed = Play(customerId, ctx, steps, split);
            AssertSame(original.Outputs, resumed.Outputs, $"split before step {split}");
            Assert.Equal(original.FinalBytes, resumed.FinalBytes);
        }
    }

    /// <summary>The same check over random journeys: every kind of event, late and duplicate ones, three consents.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Given_random_journeys_checkpointed_at_any_step_When_resumed_from_the_copy_Then_they_end_identically(int batch)
    {
        for (var seed = batch * 100; seed < batch * 100 + 20; seed++)
        {
            var rng = new Random(seed);
            var customerId = rng.Next(3) == 0 ? Visitor : "cust-1";
            var consent = new[] { AllConsented, SmsOnly, null }[rng.Next(3)];
            var ctx = Context(consent, policy: rng.Next(2) == 0 ? PolicyRules.Default
                : PolicyRules.Default with { ArbitrationWindow = TimeSpan.Zero });
            var steps = RandomJourney(rng, 30);
            var original = Play(customerId, ctx, steps, splitAt: null);
            for (var split = 0; split <= steps.Count; split++)
            {
                var resumed = Play(customerId, ctx, steps, split);
                AssertSame(original.Outputs, resumed.Outputs, $"seed {seed}, split before step {split}");
                Assert.True(original.FinalBytes.SequenceEqual(resumed.FinalBytes),
                    $"seed {seed}, split before step {split}: end states differ");
            }
        }
    }

    [Fact]
    public void Given_a_full_dedup_memory_When_round_tripped_Then_duplicates_are_still_ignored_and_the_oldest_ids_go_first()
    {
        var ctx = Context(AllConsented);
        var s = new CustomerState("cust-1");
        // Distinct ids in no sorted order, so that only the insertion order can explain which ones go.
        var ids = Enumerable.Range(0, CustomerState.SeenMessageLimit).Select(i => $"m-{i * 7919 % 10_007}").ToArray();
        foreach (var id in ids) s.Seen.Add(id);
        CustomerJourney.Handle(s, new OtherEvent("page-1", T0, "Page Viewed"), ctx);
        Assert.False(s.Seen.Contains(ids[0]));

        var copy = RoundTrip(s);

        Assert.Equal(s.Seen.OldestFirst, copy.Seen.OldestFirst);
        Assert.True(CustomerJourney.Handle(copy, new OtherEvent(ids[1], T0.AddMinutes(1), "Page Viewed"), ctx).Duplicate);
        Assert.True(CustomerJourney.Handle(copy, new OtherEvent("page-1", T0.AddMinutes(1), "Page Viewed"), ctx).Duplicate);
        foreach (var state in new[] { s, copy })
        {
            state.Seen.Add("new-1");
            state.Seen.Add("new-2");
        }
        Assert.False(copy.Seen.Contains(ids[1]));
        Assert.False(copy.Seen.Contains(ids[2]));
        Assert.True(copy.Seen.Contains(ids[3]));
        Assert.Equal(s.Seen.OldestFirst, copy.Seen.OldestFirst);
    }

    [Fact]
    public void Given_a_product_with_interests_When_round_tripped_as_its_row_and_interest_rows_Then_bytes_match_and_a_price_drop_and_restock_notify_the_same()
    {
        var p = new ProductState("sku-1");
        ProductCatalog.OnUpdate(p, new CatalogUpdate("sku-1", 20.50m, "EUR", false, "shoes", "XL", 30, T0), Lookback);
        ProductCatalog.OnInterest(p, Shown(Visitor, InterestKind.Viewed, "v-1", T0.AddMinutes(1), 21.00m));
        for (var i = 0; i < Interest.EvidenceLimit + 2; i++)
            ProductCatalog.OnInterest(p, Shown("alice", InterestKind.Added, $"a-{i}", T0.AddMinutes(2 + i), 19.99m - i));
        ProductCatalog.OnInterest(p, Shown("bob", InterestKind.Subscribed, "s-1", T0.AddHours(1), null));
        ProductCatalog.OnInterest(p, Shown("carol", InterestKind.Viewed, "v-2", T0.AddHours(2), null));
        ProductCatalog.OnInterest(p, Shown("dave", InterestKind.Ordered, "o-1", T0.AddHours(3), 20.50m));
        ProductCatalog.MergeInterest(p, Visitor, "alice");
        Assert.Contains(p.Interests.Values, i => i.WaitingSince is not null && i.WaitingEvidence.Count > 0);
        Assert.Contains(p.Interests.Values, i => i.Evidence.Count == Interest.EvidenceLimit);

        var bytes = StateCodec.EncodeProduct(p);
        var rows = p.Interests.ToDictionary(kv => kv.Key, kv => StateCodec.EncodeInterest(kv.Value));
        var copy = StateCodec.DecodeProduct(p.ProductId, bytes);
        Assert.Empty(copy.Interests); // interests are rows of their own
        foreach (var (customerId, row) in rows) copy.Interests[customerId] = StateCodec.DecodeInterest(row);

        Assert.Equal(bytes, StateCodec.EncodeProduct(copy));
        Assert.All(copy.Interests, kv => Assert.Equal(rows[kv.Key], StateCodec.EncodeInterest(kv.Value)));
        Assert.Equal(JsonSerializer.Serialize(p), JsonSerializer.Serialize(copy));
        var drop = new CatalogUpdate("sku-1", 14.99m, null, true, null, null, null, T0.AddDays(2));
        var notes = ProductCatalog.OnUpdate(p, drop, Lookback);
        Assert.Contains(notes, n => n.Notification is PriceDropped);
        Assert.Contains(notes, n => n.Notification is BackInStockEvent);
        Assert.Equal(Describe(notes), Describe(ProductCatalog.OnUpdate(copy, drop, Lookback)));
        Assert.Equal(StateCodec.EncodeProduct(p), StateCodec.EncodeProduct(copy));
        Assert.Equal(JsonSerializer.Serialize(p), JsonSerializer.Serialize(copy));
    }

    [Fact]
    public void Given_notifications_a_product_still_owes_When_round_tripped_Then_each_keeps_its_log_record_and_event()
    {
        var p = new ProductState("sku-1");
        ProductCatalog.OnUpdate(p, new CatalogUpdate("sku-1", 20.50m, "EUR", true, "shoes", null, null, T0), Lookback);
        OwedNotification[] owed =
        [
            new(7, "alice", new PriceDropped("drop:sku-1:1", T0.AddDays(1), "sku-1", 15m, 20.50m, T0, ["v-1"], "shoes")),
            new(9, "bob", new BackInStockEvent("restock:sku-1:2", T0.AddDays(2), "sku-1", T0, ["s-1"], 20.50m, "shoes")),
        ];

        var bytes = StateCodec.EncodeProduct(p, owed);
        StateCodec.DecodeProduct(p.ProductId, bytes, out var copy);

        Assert.Equal(owed.Select(o => (o.Seq, o.CustomerId, o.Note.MessageId, o.Note.GetType())),
            copy.Select(o => (o.Seq, o.CustomerId, o.Note.MessageId, o.Note.GetType())));
        Assert.Equal(JsonSerializer.Serialize<object>(owed[0].Note), JsonSerializer.Serialize<object>(copy[0].Note));
        Assert.Equal(bytes, StateCodec.EncodeProduct(StateCodec.DecodeProduct(p.ProductId, bytes), copy));
        StateCodec.DecodeProduct(p.ProductId, StateCodec.EncodeProduct(p), out var none);
        Assert.Empty(none);
    }

    [Fact]
    public void Given_payload_values_of_each_kind_When_round_tripped_Then_they_keep_their_types_and_print_the_same()
    {
        var payload = new Dictionary<string, object?>
        {
            ["text"] = "a+b <c> é", ["flag"] = true, ["count"] = 3, ["big"] = 5_000_000_000L, ["ratio"] = 0.1 + 0.2,
            ["price"] = 20.50m, ["at"] = ParisEvening, ["none"] = null,
            ["product"] = new Dictionary<string, object?> { ["product_id"] = "sku-1", ["price"] = 9.90m },
            ["items"] = new[] { new Dictionary<string, object?> { ["quantity"] = 2 } },
            ["mixed"] = new object?[] { 1, "two", null },
            ["other"] = Guid.Parse("6f1c9a52-0d4e-4c1b-9d2a-3e5f7a8b9c0d"),
        };
        var s = new CustomerState("cust-1");
        var candidate = new Candidate(ScenarioName.Welcome, "welcome", T0, "Welcome", ["su-1"], payload);
        s.Arbitration.Waiting.Add(candidate);
        s.Decisions.Add(new TriggerDecision("d-1", "cust-1", ScenarioName.Welcome, Outcome.Sent, null, "email", "promotions",
            90, T0, T0, "Welcome", candidate.BasedOn, payload));

        var copy = RoundTrip(s);

        var back = copy.Arbitration.Waiting[0].Payload;
        Assert.Same(back, copy.Decisions[0].Payload);
        Assert.Equal(payload.Keys, back.Keys);
        foreach (var key in payload.Keys.Where(k => k != "other"))
            Assert.Equal(payload[key]?.GetType(), back[key]?.GetType());
        Assert.Equal(ParisEvening.Offset, Assert.IsType<DateTimeOffset>(back["at"]).Offset);
        Assert.Equal("20.50", Assert.IsType<decimal>(back["price"]).ToString(CultureInfo.InvariantCulture));
        // A type the codec does not know keeps its JSON value, as a JsonElement.
        Assert.IsType<JsonElement>(back["other"]);
        Assert.Equal(DecisionJson.ToLine(s.Decisions[0]), DecisionJson.ToLine(copy.Decisions[0]));
    }

    [Fact]
    public void Given_state_bytes_of_another_format_version_When_decoded_Then_they_are_refused_by_version()
    {
        var reader = new MessagePackReader(StateCodec.EncodeCustomer(new CustomerState("cust-1")));
        reader.ReadArrayHeader();
        Assert.Equal(StateCodec.FormatVersion, reader.ReadInt32());
        var version2 = MessagePackSerializer.Serialize(new object[] { 2, true });

        var customer = Assert.Throws<NotSupportedException>(() => StateCodec.DecodeCustomer("cust-1", version2));
        var product = Assert.Throws<NotSupportedException>(() => StateCodec.DecodeProduct("sku-1", version2));

        Assert.Contains("format version 2", customer.Message);
        Assert.Contains("format version 2", product.Message);
        Assert.Throws<InvalidDataException>(() => StateCodec.DecodeCustomer("cust-1", MessagePackSerializer.Serialize("hello")));
        Assert.Throws<InvalidDataException>(() => StateCodec.DecodeProduct("sku-1", ReadOnlyMemory<byte>.Empty));
    }

    private const string Visitor = "anon:visitor-7";

    private static readonly IReadOnlyList<object> RealisticJourney =
    [
        // Another system's push, long enough before the cart reminder for the minimum gap.
        new MessageSent("ms-1", T0.AddHours(-5), "push", "promotions"),
        new ProductViewed("v-1", T0, "sku-1", 20.50m, "shoes", 40_000) { TimeZone = "Europe/Paris" },
        new ProductViewed("v-2", T0.AddMinutes(2), "sku-1", 20.50m, "shoes", 15_000),
        new ProductViewed("h-1", T0.AddMinutes(3), "sku-5", 12m, "hats", null),
        new ProductViewed("h-2", T0.AddMinutes(4), "sku-5", 12m, "hats", 3_000),
        new ProductViewed("h-3", T0.AddMinutes(5), "sku-5", null, null, null),
        new ProductAdded("a-1", T0.AddMinutes(6), "sku-1", 2, 20.50m, "cart-1"),
        new ProductAdded("a-2", T0.AddMinutes(7), "sku-2", 1, 5.00m, "cart-1"),
        new ProductRemoved("r-1", T0.AddMinutes(8), "sku-2", null, "cart-1"),
        new Identified("i-1", T0.AddMinutes(9), new Dictionary<string, string> { ["email"] = "v@example.com", ["plan"] = "gold" }),
        new OrderCompleted("o-1", T0.AddMinutes(10), "ord-1", "cart-9", 23.48m,
            [new OrderLine("sku-3", 2, 9.99m, "coffee", "XL", 15), new OrderLine("sku-4", 1, 3.50m, "tea", null, null)]),
        new ProductFacts("f-1", T0.AddMinutes(11), "sku-4", 20, null, "tea"),
        new TriggerFeedback("fb-1", T0.AddMinutes(12), "sku-3", "not_interested"),
        new OtherEvent("p-1", T0.AddMinutes(14), "Coupon Applied"),
        new Advance(T0.AddMinutes(40)),
        new Advance(T0.AddHours(2)),
        new SignedUp("su-1", ParisEvening, "Signed Up") { TimeZone = "Europe/Paris" },
        // The welcome's window closes (deferred: quiet hours); catalog notifications do not move the clock themselves.
        new Advance(ParisEvening.AddMinutes(5)),
        new PriceDropped("pd-1", ParisEvening.AddMinutes(10), "sku-1", 15m, 20.50m, T0, ["v-1", "v-2"], "shoes"),
        new BackInStockEvent("bis-1", ParisEvening.AddMinutes(10.5), "sku-6", T0, ["sub-1"], 30m, null),
    ];

    /// <summary>Each journey with a piece of decision JSON it must produce, so that it keeps testing what it is named for.</summary>
    private static readonly Dictionary<string, (string CustomerId, JourneyContext Context, string Expect, IReadOnlyList<object> Steps)>
        JourneysByName = new()
    {
        ["realistic"] = (Visitor, Context(AllConsented), "\"outcome\":\"deferred\"",
        [
            .. RealisticJourney,
            new Advance(ParisEvening.AddHours(12)),
            new ProductAdded("a-3", T0.AddDays(2), "sku-7", 1, 99.90m, "cart-1"),
            new OrderCompleted("o-2", T0.AddDays(3), "ord-2", "cart-1", 140.90m,
                [new OrderLine("sku-1", 2, 20.50m, "shoes", null, null), new OrderLine("sku-7", 1, 99.90m, "shoes", null, null)]),
            new Advance(FarFuture),
        ]),
        ["abandoned_cart"] = ("cust-1", Context(AllConsented), "\"reminder\":2",
        [
            new ProductViewed("v-1", T0, "sku-1", 20.50m, "shoes", null),
            new ProductAdded("a-1", T0.AddMinutes(1), "sku-1", 2, 20.50m, "cart-1"),
            new ProductAdded("a-2", T0.AddMinutes(2), "sku-2", 1, 5.00m, "cart-1"),
            new ProductRemoved("r-1", T0.AddMinutes(3), "sku-1", 1, "cart-1"),
            new Advance(T0.AddMinutes(20)),
            new Advance(T0.AddMinutes(33.5)),
            new Advance(T0.AddMinutes(45)),
            new CartViewed("cv-1", T0.AddHours(2), "Cart Viewed", "cart-1",
                [new CartItem("sku-1", 1, 20.50m), new CartItem("sku-2", 1, 5m)]),
            new Advance(T0.AddDays(1.5)),
            new ProductAdded("a-3", T0.AddDays(2), "sku-3", 1, 7.25m, "cart-1"),
            new OrderCompleted("o-1", T0.AddDays(3), "ord-1", "cart-1", 32.75m, [new OrderLine("sku-1", 1, 20.50m, null, null, null)]),
            new Advance(FarFuture),
        ]),
        ["browse_abandonment"] = ("cust-1", Context(AllConsented), "\"scenario\":\"browse_abandonment\",\"outcome\":\"sent\"",
        [
            new ProductViewed("v-1", T0, "sku-5", 12m, "hats", 30_000),
            new ProductViewed("v-2", T0.AddMinutes(5), "sku-5", 12m, "hats", 30_000),
            new ProductViewed("v-3", T0.AddMinutes(10), "sku-5", 11.50m, "hats", null),
            new Advance(T0.AddMinutes(30)),
            new ProductViewed("v-4", T0.AddMinutes(40), "sku-5", null, null, null),
            new Advance(T0.AddHours(3)),
            new ProductViewed("v-5", T0.AddDays(5), "sku-5", 12m, "hats", null),
            new ProductViewed("w-1", T0.AddDays(6), "sku-6", 8m, "gloves", 7_200_000),
            new Advance(T0.AddDays(6.5)),
            new ProductViewed("v-6", T0.AddDays(32), "sku-5", 12m, "hats", null),
            new ProductViewed("v-7", T0.AddDays(32.1), "sku-5", 12m, "hats", null),
            new ProductViewed("v-8", T0.AddDays(32.2), "sku-5", 12m, "hats", null),
            new Advance(FarFuture),
        ]),
        ["replenishment"] = ("cust-1", Context(AllConsented), "\"scenario\":\"replenishment\",\"outcome\":\"sent\"",
        [
            new OrderCompleted("o-1", T0, "ord-1", null, 30m,
                [new OrderLine("vitamins", 2, 10m, "health", null, 30), new OrderLine("soap", 1, 10m, null, "XL", null)]),
            new ProductFacts("f-1", T0.AddMinutes(1), "soap", 20, "XL", "bath"),
            new Advance(T0.AddDays(27)),
            new Advance(T0.AddDays(59.9)),
            new Advance(T0.AddDays(61)),
            new OrderCompleted("o-2", T0.AddDays(62), "ord-2", null, 10m, [new OrderLine("vitamins", 1, 10m, "health", null, 30)]),
            new Advance(FarFuture),
        ]),
        ["reorder_delay"] = ("cust-1", Context(AllConsented), "\"scenario\":\"reorder_delay\",\"outcome\":\"sent\"",
        [
            new OrderCompleted("o-1", T0, "ord-1", null, 12m,
                [new OrderLine("coffee", 2, 4m, "coffee", null, null), new OrderLine("mug", 1, 4m, "kitchen", null, null)]),
            new OrderCompleted("o-2", T0.AddDays(10), "ord-2", null, 4m, [new OrderLine("coffee", 1, 4m, "coffee", null, null)]),
            new OrderCompleted("o-3", T0.AddDays(20), "ord-3", null, 3m, [new OrderLine("tea", 1, 3m, "tea", null, null)]),
            new Advance(T0.AddDays(31)),
            new Advance(T0.AddDays(33)),
            new OrderCompleted("o-4", T0.AddDays(40), "ord-4", null, 3m, [new OrderLine("tea", 1, 3m, "tea", null, null)]),
            new Advance(FarFuture),
        ]),
        ["quiet_hours_deferral"] = ("cust-1", Context(SmsOnly), "\"deferredUntil\"",
        [
            new SignedUp("su-1", ParisEvening, "Signed Up") { TimeZone = "Europe/Paris" },
            new Advance(ParisEvening.AddMinutes(30)),
            new ProductAdded("a-1", ParisEvening.AddMinutes(31), "sku-1", 1, 20m, "cart-1"),
            new Advance(ParisEvening.AddHours(8.4)),
            new Advance(ParisEvening.AddHours(9.6)),
            new Advance(FarFuture),
        ]),
        ["welcome"] = ("cust-1", Context(AllConsented), "\"suppressedBy\":\"lower_priority\"",
        [
            new SignedUp("su-1", T0, "Newsletter Subscribed"),
            new PriceDropped("pd-1", T0.AddSeconds(20), "sku-1", 10m, 20m, T0.AddDays(-1), ["v-0"], "shoes"),
            new Advance(T0.AddSeconds(50)),
            new SignedUp("su-2", T0.AddMinutes(5), "Signed Up"),
            new Advance(FarFuture),
        ]),
    };

    /// <summary>Plays <paramref name="steps"/>; with <paramref name="splitAt"/>, the state is encoded and decoded
    /// just before that step and the decoded copy plays the rest.</summary>
    private static (List<string> Outputs, byte[] FinalBytes) Play(string customerId, JourneyContext ctx,
        IReadOnlyList<object> steps, int? splitAt)
    {
        var s = new CustomerState(customerId);
        var outputs = new List<string>();
        for (var i = 0; i < steps.Count; i++)
        {
            if (i == splitAt) s = RoundTrip(s);
            outputs.Add(Run(s, steps[i], ctx));
        }
        if (splitAt == steps.Count) s = RoundTrip(s);
        outputs.Add($"next due {CustomerJourney.NextDue(s, ctx):O}");
        // The decisions the state keeps, as the explain view prints them: those from before the split included.
        outputs.AddRange(s.Decisions.Select(DecisionJson.ToLine));
        return (outputs, StateCodec.EncodeCustomer(s));
    }

    /// <summary>Like Assert.Equal on the lists, but names the first difference in full.</summary>
    private static void AssertSame(List<string> expected, List<string> actual, string where)
    {
        for (var i = 0; i < Math.Min(expected.Count, actual.Count); i++)
            Assert.True(expected[i] == actual[i], $"{where}, output {i}:\n{expected[i]}\n  but the decoded copy gave\n{actual[i]}");
        Assert.True(expected.Count == actual.Count, $"{where}: {expected.Count} outputs, the decoded copy gave {actual.Count}");
    }

    /// <summary>What one step produced: its decisions as the sinks write them, and the next due time.</summary>
    private static string Run(CustomerState s, object step, JourneyContext ctx)
    {
        var result = step switch
        {
            CustomerEvent e => CustomerJourney.Handle(s, e, ctx),
            Advance a => CustomerJourney.AdvanceTo(s, a.Until, ctx),
            _ => throw new ArgumentOutOfRangeException(nameof(step)),
        };
        return string.Join("\n", result.Decisions.Select(DecisionJson.ToLine).Append(
            $"next due {result.NextDue:O}, duplicate {result.Duplicate}"));
    }

    private static List<object> RandomJourney(Random rng, int count)
    {
        string[] products = ["sku-1", "sku-2", "sku-3", "sku-4"];
        decimal?[] prices = [9.99m, 10.00m, 12.50m, null];
        string?[] zones = [null, null, "Europe/Paris", "America/New_York"];
        var steps = new List<object>();
        var at = T0;
        for (var n = 0; n < count; n++)
        {
            at += TimeSpan.FromMinutes(rng.Next(1, 3 * 24 * 60));
            // Now and then an event that arrives late, after timers past its own time have fired.
            var t = rng.Next(8) == 0 ? at - TimeSpan.FromMinutes(rng.Next(1, 120)) : at;
            var id = $"m-{n}";
            var product = products[rng.Next(products.Length)];
            var price = prices[rng.Next(prices.Length)];
            // One cart id: with several, a cart removed and another added can leave the original's dictionary
            // in a different order than the copy's (the explain view's cart order, nothing else).
            CustomerEvent? e = rng.Next(16) switch
            {
                0 or 1 or 2 => new ProductViewed(id, t, product, price, "shoes", rng.Next(2) == 0 ? null : rng.Next(100_000)),
                3 or 4 => new ProductAdded(id, t, product, rng.Next(1, 4), price, "cart-1"),
                5 => new ProductRemoved(id, t, product, rng.Next(2) == 0 ? null : 1, "cart-1"),
                6 => new CartViewed(id, t, "Checkout Started", "cart-1", [new CartItem(product, rng.Next(1, 3), price)]),
                7 => new OrderCompleted(id, t, $"ord-{n}", rng.Next(2) == 0 ? "cart-1" : null, 20m,
                    [new OrderLine(product, rng.Next(1, 3), price, rng.Next(2) == 0 ? "coffee" : "tea",
                        rng.Next(3) == 0 ? "XL" : null, rng.Next(2) == 0 ? null : rng.Next(5, 40))]),
                8 => new TriggerFeedback(id, t, product, "already_purchased"),
                9 => new MessageSent(id, t, new[] { "email", "sms", "push" }[rng.Next(3)], "promotions"),
                10 => new SignedUp(id, t, rng.Next(2) == 0 ? "Signed Up" : "Newsletter Subscribed"),
                11 => new Identified(id, t, new Dictionary<string, string> { ["tier"] = $"t{rng.Next(3)}" }),
                12 => new PriceDropped(id, t, product, 5m + rng.Next(5), 12.50m, t.AddDays(-rng.Next(40)), ["m-0"], "shoes"),
                13 => new BackInStockEvent(id, t, product, t.AddDays(-1), ["m-0"], price, null),
                14 => new ProductFacts(id, t, product, rng.Next(5, 40), null, "coffee"),
                _ => null,
            };
            if (e is null)
            {
                steps.Add(new Advance(at + TimeSpan.FromHours(rng.Next(1, 48))));
                continue;
            }
            steps.Add(e with { TimeZone = zones[rng.Next(zones.Length)] });
            // And now and then a sender's retry of an earlier message.
            if (rng.Next(10) == 0) steps.Add(steps[rng.Next(steps.Count)]);
        }
        steps.Add(new Advance(at.AddDays(400)));
        return steps;
    }

    private static CustomerState RoundTrip(CustomerState s) =>
        StateCodec.DecodeCustomer(s.CustomerId, StateCodec.EncodeCustomer(s));

    /// <summary>Every public field of the state as JSON (events by their own type): a codec that dropped or
    /// bent a field shows here even if it did so on both the way in and the way out.</summary>
    private static string Describe(CustomerState s) =>
        JsonSerializer.Serialize(s) + "\n" + string.Join("\n", s.AnonymousEvents.Select(e => JsonSerializer.Serialize<object>(e)));

    private static string Describe(IReadOnlyList<(string CustomerId, CustomerEvent Notification)> notes) =>
        string.Join("\n", notes.Select(n => $"{n.CustomerId} {JsonSerializer.Serialize<object>(n.Notification)}"));

    private static InterestShown Shown(string customerId, InterestKind kind, string messageId, DateTimeOffset at,
        decimal? price) => new(customerId, kind, messageId, at, price);

    private static ConsentRecord Consent(string[] channels) => new(
        channels.ToDictionary(c => c, _ => true),
        new Dictionary<string, bool> { ["cart_reminders"] = true, ["promotions"] = true, ["product_alerts"] = true },
        null, [], false, T0.AddDays(-30));
}
