using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using TriggerEngine.Cluster.Entities;

namespace TriggerEngine.Cluster.Tests;

/// <summary>The engine's own heap bound: pressing over budget, letting go under 90 % of it, and the residency steps. The
/// heap reading is handed in (a real heap cannot be driven over a budget on cue); test probes stand in for entities.</summary>
public sealed class MemoryGuardTests : TestKit
{
    private const long MB = 1_048_576;
    private long _heap;
    private long _collection;

    /// <summary>The reading, as after a new collection each time unless <see cref="_sameCollection"/>.</summary>
    private (long, long) Reading() => (_heap, _sameCollection ? _collection : ++_collection);
    private bool _sameCollection;
    private int _collections;

    private (MemoryGuard Guard, ResidencyLimit Residency, TestProbe[] Entities) Resident(int configured, int entering)
    {
        var residency = new ResidencyLimit(configured);
        var entities = Enumerable.Range(0, entering).Select(_ => CreateTestProbe()).ToArray();
        foreach (var e in entities) residency.Enter(e.Ref);
        return (new MemoryGuard(1000 * MB, residency, Reading, collect: () => _collections++), residency, entities);
    }

    [Fact]
    public void Given_the_heap_under_budget_Then_the_guard_does_not_press_and_nobody_is_asked_to_leave()
    {
        var (guard, residency, entities) = Resident(100, 100);
        _heap = 999 * MB;

        Assert.Equal(0, guard.Check());

        Assert.False(guard.Pressed);
        Assert.Equal(100, residency.Current);
        foreach (var e in entities) e.ExpectNoMsg(TimeSpan.Zero);
    }

    [Fact]
    public void Given_the_heap_over_budget_Then_the_guard_presses_and_each_check_asks_a_step_of_residents_to_leave()
    {
        var (guard, residency, entities) = Resident(100, 100);
        _heap = 1001 * MB;

        Assert.Equal(5, guard.Check());
        Assert.True(guard.Pressed);
        Assert.Equal(95, residency.Current);
        Assert.Equal(5, guard.Check());
        Assert.Equal(90, residency.Current);

        // The ten entered first (none used since) are the ones told to leave.
        foreach (var e in entities.Take(10)) e.ExpectMsg<PassivateForRoom>(TimeSpan.FromSeconds(3));
        foreach (var e in entities.Skip(10)) e.ExpectNoMsg(TimeSpan.Zero);
    }

    [Fact]
    public void Given_no_collection_since_the_last_step_When_the_heap_still_reads_over_budget_Then_no_one_else_is_asked_to_leave()
    {
        var (guard, residency, _) = Resident(100, 100);
        _heap = 1001 * MB;
        Assert.Equal(5, guard.Check());

        _sameCollection = true;
        Assert.Equal(0, guard.Check());
        Assert.Equal(0, guard.Check());
        Assert.True(guard.Pressed);
        Assert.Equal(95, residency.Current);

        _sameCollection = false;
        Assert.Equal(5, guard.Check());
    }

    [Fact]
    public void Given_the_guard_pressed_and_no_collection_coming_Then_it_asks_for_one_every_few_checks_and_not_before()
    {
        var (guard, _, _) = Resident(100, 100);
        _heap = 1001 * MB;
        guard.Check();
        _sameCollection = true;

        for (var i = 1; i < MemoryGuard.StaleChecksBeforeCollect; i++) guard.Check();
        Assert.Equal(0, _collections);
        guard.Check();
        Assert.Equal(1, _collections);
        for (var i = 0; i < MemoryGuard.StaleChecksBeforeCollect; i++) guard.Check();
        Assert.Equal(2, _collections);

        _heap = 0;
        for (var i = 0; i < 3 * MemoryGuard.StaleChecksBeforeCollect; i++) guard.Check();
        Assert.Equal(2, _collections);
    }

    [Fact]
    public void Given_the_heap_stays_over_budget_Then_the_residency_limit_stops_at_a_quarter_of_the_configured_one()
    {
        var (guard, residency, _) = Resident(100, 100);
        _heap = 2000 * MB;

        for (var i = 0; i < 40; i++) guard.Check();

        Assert.Equal(25, residency.Current);
        Assert.Equal(25, residency.Count);
    }

    [Fact]
    public void Given_a_pressed_guard_Then_it_lets_go_only_under_ninety_percent_of_the_budget_and_the_limit_climbs_back_slowly()
    {
        var (guard, residency, _) = Resident(100, 100);
        _heap = 1001 * MB;
        guard.Check();
        guard.Check();

        _heap = 950 * MB;
        guard.Check();
        Assert.True(guard.Pressed);
        Assert.Equal(85, residency.Current);

        _heap = 850 * MB;
        guard.Check();
        Assert.False(guard.Pressed);
        Assert.Equal(86, residency.Current);
        for (var i = 0; i < 30; i++) guard.Check();
        Assert.Equal(100, residency.Current);
    }

    [Fact]
    public async Task Given_a_pressed_guard_Then_waiting_ends_when_it_lets_go_or_after_the_longest_wait()
    {
        var (guard, _, _) = Resident(100, 0);
        _heap = 1001 * MB;
        guard.Check();

        var bounded = guard.WaitWhilePressedAsync(TimeSpan.FromMilliseconds(200));
        Assert.True(await Task.WhenAny(bounded, Task.Delay(TimeSpan.FromSeconds(10))) == bounded);

        var released = guard.WaitWhilePressedAsync(TimeSpan.FromMinutes(5));
        Assert.False(released.IsCompleted);
        _heap = 0;
        guard.Check();
        Assert.True(await Task.WhenAny(released, Task.Delay(TimeSpan.FromSeconds(10))) == released);
    }

    [Fact]
    public void Given_no_budget_Then_the_guard_never_presses()
    {
        var guard = new MemoryGuard(0, new ResidencyLimit(10), () => (long.MaxValue, 1));

        Assert.Equal(0, guard.Check());
        Assert.False(guard.Pressed);
    }
}
