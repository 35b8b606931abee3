using TriggerEngine.Cluster.Customers;
using TriggerEngine.Cluster.Ingest;
using TriggerEngine.Cluster.Products;
using TriggerEngine.Core.Events;

namespace TriggerEngine.Cluster.Tests;

/// <summary>
/// The order in which the ingest log sends one record's calls: a merge must find the visitor's events of the same
/// record already at the anonymous profile, and its interests already at the products.
/// </summary>
public sealed class RecordDispatchTests
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 7, 10, 0, 0, TimeSpan.Zero);
    private const string Visitor = "anon:v1";

    private static LoggedCall View(string customer, string id, string product, int minute) =>
        new(customer, new ProductViewed(id, T0.AddMinutes(minute), product, 10m, null, null), null);

    private static LoggedCall Identify(string customer, string id, int minute, string anonymous) =>
        new(customer, new Identified(id, T0.AddMinutes(minute), null), anonymous);

    private static LoggedCall Add(string customer, string id, string product, int minute) =>
        new(customer, new ProductAdded(id, T0.AddMinutes(minute), product, 1, 10m, "cart-1"), null);

    private static List<object> Dispatch(params LoggedCall[] calls) => RecordDispatch.Messages(7, new CallsRecord(calls, null));

    private static int IndexOf(List<object> messages, Func<object, bool> match) => messages.FindIndex(m => match(m));

    [Fact]
    public void Visitor_events_of_the_record_reach_the_profile_before_the_merge_asks_for_them()
    {
        var messages = Dispatch(
            View(Visitor, "m0", "p1", 0),
            View("u2", "o1", "p9", 1),
            Identify("u1", "id1", 2, Visitor),
            Add("u1", "m2", "p1", 3),
            View("u3", "o2", "p9", 4));

        var visitorEvents = IndexOf(messages, m => m is IngestEvents { CustomerId: Visitor });
        var visitorInterest = IndexOf(messages, m => m is RecordInterests r && r.Interests.Any(i => i.CustomerId == Visitor));
        var merge = IndexOf(messages, m => m is MergeAnonymousProfile { CustomerId: "u1", AnonymousKey: Visitor });
        Assert.True(visitorEvents >= 0 && merge >= 0 && visitorInterest >= 0);
        Assert.True(visitorEvents < merge, "the visitor's events go before the merge");
        Assert.True(visitorInterest < merge, "the visitor's interests go before the merge");
    }

    [Fact]
    public void Every_event_and_interest_is_sent_once_with_the_record_sequence()
    {
        var messages = Dispatch(
            View(Visitor, "m0", "p1", 0),
            View("u2", "o1", "p1", 1),
            Identify("u1", "id1", 2, Visitor),
            View(Visitor, "m1", "p2", 3),
            Add("u1", "m2", "p1", 4),
            View("u2", "o2", "p1", 5));

        var events = messages.OfType<IngestEvents>().SelectMany(m => m.Events.Select(e => e.MessageId)).ToList();
        Assert.Equal(["id1", "m0", "m1", "m2", "o1", "o2"], events.Order());
        var interests = messages.OfType<RecordInterests>().SelectMany(m => m.Interests.Select(i => i.MessageId)).ToList();
        Assert.Equal(["m0", "m1", "m2", "o1", "o2"], interests.Order());
        Assert.All(messages.OfType<IngestEvents>(), m => Assert.Equal(7, m.Seq));
        Assert.All(messages.OfType<RecordInterests>(), m => Assert.Equal(7, m.Seq));
        Assert.DoesNotContain(messages.OfType<IngestEvents>(), m => m.Events.Count == 0);
        Assert.DoesNotContain(messages.OfType<RecordInterests>(), m => m.Interests.Count == 0);
    }

    [Fact]
    public void Visitor_calls_after_the_merge_go_straight_to_the_customer_in_record_order()
    {
        var messages = Dispatch(
            View("u1", "a", "p1", 0),
            Identify("u1", "b", 1, Visitor),
            View("u1", "c", "p1", 2),
            View(Visitor, "d", "p1", 3),
            View("u1", "e", "p1", 4));

        var toCustomer = messages.OfType<IngestEvents>().Where(m => m.CustomerId == "u1")
            .SelectMany(m => m.Events.Select(e => e.MessageId));
        Assert.Equal(["a", "b", "c", "d", "e"], toCustomer);
        Assert.DoesNotContain(messages.OfType<IngestEvents>(), m => m.CustomerId == Visitor);
        var merge = IndexOf(messages, m => m is MergeAnonymousProfile);
        var before = IndexOf(messages, m => m is IngestEvents i && i.Events.Any(e => e.MessageId == "b"));
        var after = IndexOf(messages, m => m is IngestEvents i && i.Events.Any(e => e.MessageId == "c"));
        Assert.True(before < merge && merge < after);
        var interests = messages.OfType<RecordInterests>().Where(r => r.ProductId == "p1").SelectMany(r => r.Interests).ToList();
        Assert.Equal(["a", "c", "d", "e"], interests.Select(i => i.MessageId));
        Assert.All(interests, i => Assert.Equal("u1", i.CustomerId));
    }

    [Fact]
    public void The_first_merge_of_a_profile_in_a_record_decides_where_its_later_calls_go()
    {
        var messages = Dispatch(
            Identify("u1", "b", 1, Visitor),
            Identify("u2", "c", 2, Visitor),
            View(Visitor, "d", "p1", 3));

        var d = messages.OfType<IngestEvents>().Single(m => m.Events.Any(e => e.MessageId == "d"));
        Assert.Equal("u1", d.CustomerId);
    }
}
