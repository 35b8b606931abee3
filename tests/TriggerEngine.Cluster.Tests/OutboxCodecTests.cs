using TriggerEngine.Adapters.Json;
using TriggerEngine.Cluster.Persistence;
using TriggerEngine.Core.Decisions;

namespace TriggerEngine.Cluster.Tests;

/// <summary>An outbox row gives back the decision it recorded, byte for byte as the sinks write it.</summary>
public sealed class OutboxCodecTests
{
    private static readonly DateTimeOffset T = new(2030, 1, 7, 10, 0, 0, TimeSpan.FromHours(1));

    [Fact]
    public void Given_a_decision_with_a_rich_payload_When_round_tripped_through_an_outbox_row_Then_its_json_line_is_identical()
    {
        var payload = new Dictionary<string, object?>
        {
            ["items"] = new[] { new Dictionary<string, object?> { ["product_id"] = "p1", ["quantity"] = 2, ["price"] = 19.90m } },
            ["ordered_at"] = T.AddDays(-30),
            ["cart_id"] = "cart-1",
            ["total"] = 39.80m,
            ["note"] = null,
        };
        var decision = new TriggerDecision("d-1", "alice", "abandoned_cart", Outcome.Deferred, null, "email", "cart_reminders", 80,
            T, T.AddMinutes(5), "You left 2 items in your cart 30 minutes ago", ["m1", "m2"], payload, T.AddHours(8));

        var back = StateCodec.DecodeDecision(StateCodec.EncodeDecision(decision));

        Assert.Equal(DecisionJson.ToLine(decision), DecisionJson.ToLine(back));
        Assert.Equal("alice", back.CustomerId);
    }

    [Fact]
    public void Given_a_deferred_record_and_its_final_record_When_keyed_for_the_outbox_Then_the_keys_differ()
    {
        var deferred = new TriggerDecision("d-1", "alice", "welcome", Outcome.Deferred, null, "email", "welcome", 50,
            T, T, "Welcome", ["m1"], new Dictionary<string, object?>(), T.AddHours(8));
        var sent = deferred with { Outcome = Outcome.Sent, DeferredUntil = null };

        Assert.NotEqual(OutboxDecisionSink.Key(deferred), OutboxDecisionSink.Key(sent));
        Assert.Equal(OutboxDecisionSink.Key(sent), OutboxDecisionSink.Key(sent with { DecidedAt = T.AddDays(1) }));
        // A replay that decides differently the second time does not make a second final record.
        Assert.Equal(OutboxDecisionSink.Key(sent), OutboxDecisionSink.Key(sent with { Outcome = Outcome.Suppressed, SuppressedBy = "frequency_cap" }));
    }
}
