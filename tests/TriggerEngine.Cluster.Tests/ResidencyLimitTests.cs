using Akka.Actor;
using Akka.TestKit.Xunit2;
using TriggerEngine.Cluster.Entities;

namespace TriggerEngine.Cluster.Tests;

/// <summary>The node's bound on resident entities: second-chance eviction (test probes stand in for entities).</summary>
public sealed class ResidencyLimitTests : TestKit
{
    private IActorRef Entity() => CreateTestProbe().Ref;

    [Fact]
    public void Given_a_limit_When_more_entities_enter_Then_each_newcomer_past_it_evicts_one_and_the_count_stays_at_the_limit()
    {
        var limit = new ResidencyLimit(3);
        var evicted = Enumerable.Range(0, 5).Select(_ => limit.Enter(Entity()).Evict).ToList();

        Assert.Equal(3, evicted.Count(e => e is null));
        Assert.Equal(2, evicted.Count(e => e is not null));
        Assert.Equal(3, limit.Count);
    }

    [Fact]
    public void Given_entities_entering_When_some_were_restored_from_a_row_Then_both_counts_include_those_evicted_since()
    {
        var limit = new ResidencyLimit(1);
        limit.Enter(Entity(), restored: true);
        limit.Enter(Entity());
        limit.Enter(Entity(), restored: true);

        Assert.Equal((3, 2), (limit.Activated, limit.Restored));
        Assert.Equal((0, 0), (new ResidencyLimit(1).Activated, new ResidencyLimit(1).Restored));
    }

    [Fact]
    public void Given_the_oldest_entity_was_used_since_it_entered_When_room_is_needed_Then_the_oldest_unused_one_goes()
    {
        var limit = new ResidencyLimit(3);
        var (a, b, c) = (Entity(), Entity(), Entity());
        var ra = limit.Enter(a).Resident;
        limit.Enter(b);
        limit.Enter(c);

        ResidencyLimit.Touch(ra);
        var evict = limit.Enter(Entity()).Evict;

        Assert.Equal(b, evict);
    }

    [Fact]
    public void Given_every_resident_was_used_When_room_is_needed_Then_one_of_them_goes_and_never_the_newcomer()
    {
        var limit = new ResidencyLimit(1);
        var a = Entity();
        ResidencyLimit.Touch(limit.Enter(a).Resident);

        var evict = limit.Enter(Entity()).Evict;

        Assert.Equal(a, evict);
        Assert.Equal(1, limit.Count);
    }

    [Fact]
    public void Given_an_entity_left_When_another_enters_Then_nothing_is_evicted()
    {
        var limit = new ResidencyLimit(2);
        var ra = limit.Enter(Entity()).Resident;
        limit.Enter(Entity());

        limit.Leave(ra);

        Assert.Null(limit.Enter(Entity()).Evict);
        Assert.Equal(2, limit.Count);
    }

    [Fact]
    public void Given_a_lowered_limit_Then_the_least_recently_used_leave_at_once_and_newcomers_keep_the_count_at_the_lower_limit()
    {
        var limit = new ResidencyLimit(4);
        var (a, b, c, d) = (Entity(), Entity(), Entity(), Entity());
        var ra = limit.Enter(a).Resident;
        foreach (var e in new[] { b, c, d }) limit.Enter(e);
        ResidencyLimit.Touch(ra);

        var victims = limit.LowerTo(2);

        Assert.Equal([b, c], victims);
        Assert.Equal(2, limit.Count);
        Assert.Equal(2, limit.Current);
        Assert.NotNull(limit.Enter(Entity()).Evict);
        Assert.Equal(2, limit.Count);
    }

    [Fact]
    public void Given_a_lowered_limit_When_raised_Then_it_climbs_back_but_never_past_the_configured_one()
    {
        var limit = new ResidencyLimit(10);
        limit.LowerTo(3);

        limit.RaiseTo(5);
        Assert.Equal(5, limit.Current);
        limit.RaiseTo(50);
        Assert.Equal(10, limit.Current);
        limit.LowerTo(0);
        Assert.Equal(1, limit.Current);
    }

    [Fact]
    public void Given_residents_filling_half_the_limit_in_force_Then_it_is_crowded_and_not_before()
    {
        var limit = new ResidencyLimit(4);
        limit.Enter(Entity());
        Assert.False(limit.Crowded);
        limit.Enter(Entity());
        Assert.True(limit.Crowded);
        // The limit in force counts, not the configured one; no limit is never crowded.
        var other = new ResidencyLimit(10);
        other.Enter(Entity());
        Assert.False(other.Crowded);
        other.LowerTo(2);
        Assert.True(other.Crowded);
        var none = new ResidencyLimit(0);
        none.Enter(Entity());
        Assert.False(none.Crowded);
    }

    [Fact]
    public void Given_no_configured_limit_When_lowered_Then_nothing_changes()
    {
        var limit = new ResidencyLimit(0);
        limit.Enter(Entity());
        limit.Enter(Entity());

        Assert.Empty(limit.LowerTo(1));
        Assert.Equal(2, limit.Count);
        Assert.Null(limit.Enter(Entity()).Evict);
    }
}
