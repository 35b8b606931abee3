using TriggerEngine.Adapters.Consent;
using TriggerEngine.Core.Policy;

namespace TriggerEngine.Cluster.Tests;

/// <summary>The consent cache keeps recently used records and no more than its capacity; the SQLite store behind
/// it stays the truth for the ones it dropped.</summary>
public sealed class ConsentCacheTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "trigger-engine-tests", Guid.NewGuid().ToString("N"));

    private static ConsentRecord Record(DateTimeOffset at, bool email = true) =>
        new(new Dictionary<string, bool> { ["email"] = email }, new Dictionary<string, bool> { ["promotions"] = true },
            null, [], false, at);

    [Fact]
    public void Given_more_keys_than_the_capacity_When_they_are_written_Then_old_ones_are_dropped_and_recent_ones_kept()
    {
        var cache = new RecentCache<string, int>(capacity: 10);
        for (var i = 0; i < 100; i++) cache.Set($"k{i}", i);

        Assert.False(cache.TryGet("k0", out _));
        Assert.False(cache.TryGet("k50", out _));
        Assert.True(cache.TryGet("k99", out var last));
        Assert.Equal(99, last);
        Assert.True(Enumerable.Range(0, 100).Count(i => cache.TryGet($"k{i}", out _)) <= 10);
    }

    [Fact]
    public void Given_a_key_read_again_and_again_When_many_others_pass_through_Then_it_stays()
    {
        var cache = new RecentCache<string, int>(capacity: 10);
        cache.Set("hot", 1);
        for (var i = 0; i < 100; i++)
        {
            cache.Set($"k{i}", i);
            Assert.True(cache.TryGet("hot", out var v));
            Assert.Equal(1, v);
        }
    }

    [Fact]
    public void Given_a_read_that_raced_a_newer_write_When_it_offers_the_older_record_Then_the_newer_one_stays()
    {
        var cache = new RecentCache<string, ConsentRecord?>(capacity: 10);
        var t = new DateTimeOffset(2030, 1, 7, 0, 0, 0, TimeSpan.Zero);
        cache.Set("c", Record(t.AddHours(1), email: false));
        var kept = cache.Offer("c", Record(t, email: true), (existing, read) => existing is not null && (read is null || existing.UpdatedAt >= read.UpdatedAt));
        Assert.False(kept!.Channels["email"]);
    }

    [Fact]
    public async Task Given_a_store_with_a_small_cache_When_many_customers_consent_Then_every_record_is_still_read_back()
    {
        using var store = new EmbeddedConsentStore(Path.Combine(_dir, "consent.db"), cacheSize: 8);
        var t = new DateTimeOffset(2030, 1, 7, 0, 0, 0, TimeSpan.Zero);
        for (var i = 0; i < 50; i++) await store.PutAsync($"c{i}", Record(t.AddMinutes(i), email: i % 2 == 0));

        for (var i = 0; i < 50; i++)
        {
            var r = await store.GetAsync($"c{i}");
            Assert.NotNull(r);
            Assert.Equal(i % 2 == 0, r.Channels["email"]);
            Assert.Equal(t.AddMinutes(i), r.UpdatedAt);
        }
        Assert.Null(await store.GetAsync("nobody"));
    }

    [Fact]
    public async Task Given_many_concurrent_consents_When_each_PUT_returned_Then_a_store_opened_afresh_reads_every_one()
    {
        var path = Path.Combine(_dir, "consent.db");
        var t = new DateTimeOffset(2030, 1, 7, 0, 0, 0, TimeSpan.Zero);
        using (var store = new EmbeddedConsentStore(path, cacheSize: 8))
            await Task.WhenAll(Enumerable.Range(0, 2_000).Select(i => store.PutAsync($"c{i}", Record(t.AddSeconds(i), email: i % 3 == 0)).AsTask()));

        using var reopened = new EmbeddedConsentStore(path, cacheSize: 8);
        var read = await Task.WhenAll(Enumerable.Range(0, 2_000).Select(i => reopened.GetAsync($"c{i}").AsTask()));
        for (var i = 0; i < read.Length; i++)
        {
            Assert.NotNull(read[i]);
            Assert.Equal(i % 3 == 0, read[i]!.Channels["email"]);
            Assert.Equal(t.AddSeconds(i), read[i]!.UpdatedAt);
        }
    }

    [Fact]
    public async Task Given_an_older_and_a_newer_record_written_together_When_read_Then_the_newer_one_wins_in_memory_and_on_disk()
    {
        var path = Path.Combine(_dir, "consent.db");
        var t = new DateTimeOffset(2030, 1, 7, 0, 0, 0, TimeSpan.Zero);
        using (var store = new EmbeddedConsentStore(path))
        {
            await Task.WhenAll(store.PutAsync("c", Record(t.AddHours(1), email: false)).AsTask(),
                store.PutAsync("c", Record(t, email: true)).AsTask());
            Assert.False((await store.GetAsync("c"))!.Channels["email"]);
        }
        using var reopened = new EmbeddedConsentStore(path);
        var onDisk = await reopened.GetAsync("c");
        Assert.False(onDisk!.Channels["email"]);
        Assert.Equal(t.AddHours(1), onDisk.UpdatedAt);
    }

    [Fact]
    public async Task Given_a_deleted_consent_When_read_again_after_a_restart_Then_there_is_none()
    {
        var path = Path.Combine(_dir, "consent.db");
        using (var store = new EmbeddedConsentStore(path))
        {
            await store.PutAsync("c", Record(new DateTimeOffset(2030, 1, 7, 0, 0, 0, TimeSpan.Zero)));
            await store.DeleteAsync("c");
            Assert.Null(await store.GetAsync("c"));
        }
        using var reopened = new EmbeddedConsentStore(path);
        Assert.Null(await reopened.GetAsync("c"));
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }
}
