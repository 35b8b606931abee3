using TriggerEngine.Core.Catalog;
using TriggerEngine.Core.Events;

namespace TriggerEngine.Core.Tests;

public sealed class ProductInterestsTests
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 7, 10, 0, 0, TimeSpan.Zero);

    public static TheoryData<CustomerEvent> EveryKindOfEvent() =>
    [
        new ProductViewed("m1", T0, "p1", 10m, "shoes", 5_000),
        new ProductAdded("m2", T0, "p2", 1, 12m, "cart-1"),
        new ProductRemoved("m3", T0, "p2", null, "cart-1"),
        new CartViewed("m4", T0, "Cart Viewed", "cart-1", [new CartItem("p3", 1, 5m)]),
        new OrderCompleted("m5", T0, "o1", "cart-1", 30m,
            [new OrderLine("p4", 1, 10m, null, null, null), new OrderLine("p5", 2, 10m, null, null, null)]),
        new ProductSubscribed("m6", T0, "p6"),
        new TriggerFeedback("m7", T0, "p7", "already_purchased"),
        new SignedUp("m8", T0, "Signed Up"),
        new OtherEvent("m9", T0, "page: home"),
    ];

    [Theory]
    [MemberData(nameof(EveryKindOfEvent))]
    public void Given_an_event_When_its_products_are_added_Then_they_are_the_products_its_interests_name(CustomerEvent e)
    {
        var products = new HashSet<string>();
        ProductInterests.AddProducts(e, products);

        Assert.Equal(ProductInterests.Of("c1", e).Select(i => i.ProductId).ToHashSet(), products);
    }
}
