using Akka.Actor;
using Akka.TestKit;
using TriggerEngine.Cluster.Customers;
using TriggerEngine.Cluster.Timers;
using TriggerEngine.Core.Policy;
using TriggerEngine.Core.Scenarios;

namespace TriggerEngine.Cluster.Tests;

/// <summary>SPEC 6: a watermark move returns once every timer due by then has been evaluated. The real scheduler on a real
/// SQLite state file; a test probe stands for the customer region and answers, or does not, for the customers.</summary>
public sealed class TimerSchedulerTests() : EntityTestKit("timer-scheduler-tests")
{
    private async Task<(IActorRef Scheduler, TestProbe Customers)> Start()
    {
        var customers = CreateTestProbe();
        var clock = new EngineClock(ClockMode.Event, TimeProvider.System, TimeSpan.FromMinutes(1));
        var scheduler = Sys.ActorOf(TimerScheduler.Props(customers.Ref, Store, clock,
            new FixedJourneyRules(ScenarioRules.Default, PolicyRules.Default), new EngineReadiness(), TimeSpan.FromSeconds(1),
            askTimeout: TimeSpan.FromMilliseconds(300)));
        scheduler.Tell(LogRecovered.Instance);
        // Recovered, the scheduler checks for due timers once: twice to the start of the test, so that check is behind us.
        for (var i = 0; i < 2; i++) await scheduler.Ask<WatermarkResult>(new AdvanceWatermark(T0), TimeSpan.FromSeconds(10));
        return (scheduler, customers);
    }

    /// <summary>The next wake-up the region receives, answered (or not).</summary>
    private static AdvanceCustomer Wake(TestProbe customers, bool answer)
    {
        var wake = customers.ExpectMsg<AdvanceCustomer>(TimeSpan.FromSeconds(5));
        if (answer) customers.Reply(new CustomerAdvanced(wake.CustomerId, null));
        return wake;
    }

    [Fact]
    public async Task Given_a_customer_that_does_not_confirm_When_the_watermark_moves_Then_it_is_retried_and_the_move_reports_it_incomplete_until_a_retry_confirms()
    {
        var (scheduler, customers) = await Start();
        scheduler.Tell(new WakeAt("ana", T0.AddMinutes(30)));

        var move = scheduler.Ask<WatermarkResult>(new AdvanceWatermark(T0.AddHours(1)), TimeSpan.FromSeconds(30));
        for (var i = 0; i < TimerScheduler.WatermarkAttempts; i++) Assert.Equal("ana", Wake(customers, answer: false).CustomerId);
        var incomplete = Assert.IsType<WatermarkIncomplete>(await move);
        Assert.Equal((0, 1), (incomplete.CustomersWoken, incomplete.CustomersNotConfirmed));

        // The same instant again: the customer is still due and is woken.
        var again = scheduler.Ask<WatermarkResult>(new AdvanceWatermark(T0.AddHours(1)), TimeSpan.FromSeconds(30));
        Assert.Equal("ana", Wake(customers, answer: true).CustomerId);
        Assert.Equal(1, Assert.IsType<WatermarkAdvanced>(await again).CustomersWoken);
    }

    [Fact]
    public async Task Given_one_customer_failing_once_When_the_watermark_moves_Then_the_others_are_woken_and_the_move_completes_after_its_retry()
    {
        var (scheduler, customers) = await Start();
        scheduler.Tell(new WakeAt("bea", T0.AddMinutes(10)));
        scheduler.Tell(new WakeAt("cal", T0.AddMinutes(20)));

        var move = scheduler.Ask<WatermarkResult>(new AdvanceWatermark(T0.AddHours(1)), TimeSpan.FromSeconds(30));
        var first = new[] { Wake(customers, answer: false), Wake(customers, answer: true) }.Select(w => w.CustomerId).Order();
        Assert.Equal(["bea", "cal"], first);
        Assert.Equal("bea", Wake(customers, answer: true).CustomerId);

        Assert.Equal(2, Assert.IsType<WatermarkAdvanced>(await move).CustomersWoken);
    }
}
