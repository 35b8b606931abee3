using TriggerEngine.Core.Catalog;
using TriggerEngine.Core.Customers;
using TriggerEngine.Core.Decisions;
using TriggerEngine.Core.Events;
using TriggerEngine.Core.Scenarios;
using static TriggerEngine.Core.Tests.Given;

namespace TriggerEngine.Core.Tests;

public sealed class ReplenishmentTests
{
    [Fact]
    public void Given_order_of_two_30_day_packs_When_60_days_pass_Then_replenishment_sent_based_on_the_order()
    {
        var ctx = Context();
        var s = Customer();
        Play(s, ctx, Order("ord-1", T0, "o-1", null, Line("vitamins", 2, consumptionDays: 30)));

        var d = Assert.Single(CustomerJourney.AdvanceTo(s, T0.AddDays(60), ctx).Decisions);

        Assert.Equal(ScenarioName.Replenishment, d.Scenario);
        Assert.Equal(Outcome.Sent, d.Outcome);
        Assert.Equal("email", d.Channel);
        Assert.Equal("product_alerts", d.Purpose);
        Assert.Equal(60, d.Priority);
        Assert.Equal(T0.AddDays(60), d.FiredAt);
        Assert.Equal(["ord-1"], d.BasedOn);
        Assert.Equal("The 2 × vitamins you ordered 60 days ago should be running out", d.Reason);
        Assert.Equal("vitamins", Product(d)["product_id"]);
        Assert.Equal(2, Product(d)["quantity"]);
        Assert.Equal(30.0, Product(d)["consumption_days"]);
        Assert.Equal(T0, d.Payload["ordered_at"]);
    }

    [Fact]
    public void Given_consumable_order_When_advanced_one_tick_before_it_runs_out_Then_nothing_fires()
    {
        var ctx = Context();
        var s = Customer();
        Play(s, ctx, Order("ord-1", T0, "o-1", null, Line("vitamins", 2, consumptionDays: 30)));

        var step = CustomerJourney.AdvanceTo(s, T0.AddDays(60) - TimeSpan.FromTicks(1), ctx);

        Assert.Empty(step.Decisions);
        Assert.Equal(T0.AddDays(60), step.NextDue);
    }

    [Fact]
    public void Given_XL_pack_When_ordered_Then_due_is_extended_by_xl_extra_days()
    {
        var ctx = Context();
        var s = Customer();
        Play(s, ctx, Order("ord-1", T0, "o-1", null, Line("detergent", 1, packSize: "XL", consumptionDays: 30)));

        Assert.Equal(T0.AddDays(30) + ScenarioRules.Default.Replenishment.XlExtraDays, CustomerJourney.NextDue(s, ctx));
        Assert.Empty(CustomerJourney.AdvanceTo(s, T0.AddDays(37) - TimeSpan.FromTicks(1), ctx).Decisions);
        var d = Assert.Single(CustomerJourney.AdvanceTo(s, T0.AddDays(37), ctx).Decisions);
        Assert.Equal("XL", Product(d)["pack_size"]);
    }

    [Fact]
    public void Given_order_without_consumption_days_When_time_passes_Then_not_a_consumable_and_nothing_fires()
    {
        var ctx = Context();
        var s = Customer();
        Play(s, ctx, Order("ord-1", T0, "o-1", null, Line("chair", 1)));

        var step = CustomerJourney.AdvanceTo(s, T0.AddDays(400), ctx);

        Assert.Empty(step.Decisions);
        Assert.Null(step.NextDue);
    }

    [Fact]
    public void Given_order_without_consumption_days_When_catalog_facts_supply_them_Then_replenishment_is_scheduled()
    {
        var ctx = Context();
        var s = Customer();
        var product = new ProductState("vitamins");
        ProductCatalog.OnUpdate(product,
            new CatalogUpdate("vitamins", 10m, "EUR", true, "health", null, 15, T0.AddDays(-1)), TimeSpan.FromDays(30));
        Play(s, ctx, Order("ord-1", T0, "o-1", null, Line("vitamins", 1)));

        var facts = ProductCatalog.OnInterest(product, new InterestShown(CustomerId, InterestKind.Ordered, "ord-1", T0, null));
        Play(s, ctx, Assert.IsType<ProductFacts>(facts));

        Assert.Equal(T0.AddDays(15), CustomerJourney.NextDue(s, ctx));
        var d = Assert.Single(CustomerJourney.AdvanceTo(s, T0.AddDays(15), ctx).Decisions);
        Assert.Equal(["ord-1"], d.BasedOn);
    }

    [Fact]
    public void Given_catalog_facts_seen_before_the_order_When_ordered_Then_catalog_consumption_days_are_used()
    {
        var ctx = Context();
        var s = Customer();
        Play(s, ctx, new ProductFacts("facts-1", T0.AddDays(-1), "vitamins", 20, null, "health"));

        Play(s, ctx, Order("ord-1", T0, "o-1", null, Line("vitamins", 3)));

        Assert.Equal(T0.AddDays(60), CustomerJourney.NextDue(s, ctx));
    }

    [Fact]
    public void Given_consumable_order_When_reordered_before_it_runs_out_Then_only_the_new_cycle_fires()
    {
        var ctx = Context();
        var s = Customer();
        Play(s, ctx,
            Order("ord-1", T0, "o-1", null, Line("vitamins", 1, consumptionDays: 30)),
            Order("ord-2", T0.AddDays(20), "o-2", null, Line("vitamins", 1, consumptionDays: 30)));

        Assert.Empty(CustomerJourney.AdvanceTo(s, T0.AddDays(30), ctx).Decisions);
        var d = Assert.Single(CustomerJourney.AdvanceTo(s, T0.AddDays(50), ctx).Decisions);

        Assert.Equal(["ord-2"], d.BasedOn);
        Assert.Equal(T0.AddDays(50), d.FiredAt);
    }

    [Fact]
    public void Given_replenishment_fired_When_more_time_passes_Then_it_does_not_fire_again_for_that_order()
    {
        var ctx = Context();
        var s = Customer();
        Play(s, ctx, Order("ord-1", T0, "o-1", null, Line("vitamins", 1, consumptionDays: 30)));
        Assert.Single(CustomerJourney.AdvanceTo(s, T0.AddDays(30), ctx).Decisions);

        var step = CustomerJourney.AdvanceTo(s, T0.AddDays(300), ctx);

        Assert.Empty(step.Decisions);
        Assert.Null(step.NextDue);
    }
}
