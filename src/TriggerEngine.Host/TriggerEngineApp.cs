using Akka.Cluster;
using Akka.Hosting;
using TriggerEngine.Cluster.Customers;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Prometheus;
using TriggerEngine.Adapters.Consent;
using TriggerEngine.Adapters.Sinks;
using TriggerEngine.Cluster.Entities;
using TriggerEngine.Cluster.Hosting;
using TriggerEngine.Cluster.Ingest;
using TriggerEngine.Cluster.Persistence;
using TriggerEngine.Cluster.Timers;
using TriggerEngine.Core.Ports;
using TriggerEngine.Host.Api;
using TriggerEngine.Host.Configuration;

namespace TriggerEngine.Host;

/// <summary>The composition root: reads as the engine's table of contents.</summary>
public static class TriggerEngineApp
{
    /// <summary>Short command-line switches; every other setting is <c>--Section:Key value</c>.</summary>
    private static readonly Dictionary<string, string> Switches = new()
    {
        ["--clock"] = "Engine:Clock",
        ["--data"] = "Engine:DataDirectory",
        ["--write-key"] = "Auth:WriteKey",
        ["--admin-key"] = "Auth:AdminKey",
        ["--urls"] = "Http:Urls",
    };

    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        var configDir = ConfigDirectory();
        builder.Configuration.Sources.Clear();
        builder.Configuration
            .AddJsonFile(Path.Combine(configDir, "appsettings.json"), optional: false)
            .AddJsonFile(Path.Combine(configDir, $"appsettings.{builder.Environment.EnvironmentName}.json"), optional: true)
            .AddEnvironmentVariables()
            .AddEnvironmentVariables("TriggerEngine__")
            .AddCommandLine(args, Switches);
        var config = builder.Configuration;

        var engine = config.GetSection("Engine").Get<EngineOptions>() ?? new EngineOptions();
        var http = config.GetSection("Http").Get<HttpOptions>() ?? new HttpOptions();
        var sinks = config.GetSection("Sinks").Get<SinkOptions>() ?? new SinkOptions();
        var cluster = config.GetSection("Cluster").Get<EngineClusterOptions>() ?? new EngineClusterOptions();
        var persistence = config.GetSection("Persistence").Get<EnginePersistenceOptions>() ?? new EnginePersistenceOptions();
        var dataDir = Path.GetFullPath(engine.DataDirectory);
        Directory.CreateDirectory(dataDir);

        builder.Services.Configure<EngineOptions>(config.GetSection("Engine"));
        builder.Services.Configure<AuthOptions>(config.GetSection("Auth"));
        builder.Services.Configure<HttpOptions>(config.GetSection("Http"));
        builder.Services.AddSingleton(cluster);
        // Http:Urls (or --urls) wins; otherwise a host-level ASPNETCORE_URLS is honoured, as .NET users expect.
        var urls = config["Http:Urls"] is { Length: > 0 } explicitUrls && explicitUrls != new HttpOptions().Urls
            ? explicitUrls
            : Environment.GetEnvironmentVariable("ASPNETCORE_URLS") is { Length: > 0 } hostUrls ? hostUrls : http.Urls;
        builder.WebHost.UseUrls(urls.Split(';', StringSplitOptions.RemoveEmptyEntries));
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null);

        // Time, rules, stores and sinks.
        var clockMode = engine.Clock.Trim().ToLowerInvariant() switch
        {
            "wall" => ClockMode.Wall,
            "event" => ClockMode.Event,
            _ => throw new OptionsValidationException("Engine:Clock", typeof(EngineOptions), [$"Engine:Clock must be wall or event, not '{engine.Clock}'"]),
        };
        builder.Services.AddSingleton<EngineReadiness>();
        builder.Services.AddSingleton(new EngineClock(clockMode, TimeProvider.System, engine.AllowedLateness,
            clockMode == ClockMode.Event ? Path.Combine(dataDir, "watermark") : null));
        builder.Services.AddSingleton<IJourneyRules>(sp => new ReloadingJourneyRules(
            RulesFile(config, "Scenarios", configDir, "scenarios.json"), RulesFile(config, "Policy", configDir, "policy.json"),
            sp.GetRequiredService<ILogger<ReloadingJourneyRules>>()));
        var consentCache = config.GetValue("Consent:CacheSize", EmbeddedConsentStore.DefaultCacheSize);
        builder.Services.AddSingleton<IConsentStore>(_ => new EmbeddedConsentStore(Path.Combine(dataDir, "consent.db"), consentCache));
        // Entity state, timer index and decision outbox: state.db beside the journal, or the same PostgreSQL.
        var sqlite = persistence.Provider.Equals("sqlite", StringComparison.OrdinalIgnoreCase);
        builder.Services.AddSingleton<IStateStore>(_ =>
        {
            IStateStore store = sqlite
                // Normal: a commit is fsynced only with the next meta write (the ingest log's checkpoint position), which
                // is all the truncation of the journal needs (ARCHITECTURE, "The SQLite state file").
                ? new SqliteStateStore(new SqliteConnectionStringBuilder { DataSource = Path.Combine(dataDir, "state.db") }.ToString(),
                    SqliteSync.Normal)
                : new PostgresStateStore(persistence.ConnectionString);
            store.InitializeAsync().GetAwaiter().GetResult();
            return store;
        });
        builder.Services.AddSingleton(sp => new StateBatcher(sp.GetRequiredService<IStateStore>()));
        builder.Services.AddSingleton(new IngestPressure(cluster.MaxPendingEvents));
        builder.Services.AddSingleton(new ResidencyLimit(cluster.MaxResidentEntities));
        builder.Services.AddSingleton(new ProductResidency(new ResidencyLimit(cluster.MaxResidentProducts)));
        builder.Services.AddSingleton(sp =>
        {
            var log = sp.GetRequiredService<ILogger<MemoryGuard>>();
            var budget = cluster.MemoryBudget;
            log.LogInformation("Heap budget {Budget} MB of the {Available} MB the runtime may use (Cluster:MemoryBudgetPercent, Cluster:MemoryBudgetBytes; 0: none)",
                budget / 1_048_576, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1_048_576);
            return new MemoryGuard(budget, sp.GetRequiredService<ResidencyLimit>(),
                interval: TimeSpan.FromMilliseconds(250), log: m => log.LogWarning("{Message}", m));
        });
        builder.Services.AddSingleton<IDecisionSink>(sp =>
        {
            var list = new List<IDecisionSink> { ActivatorUtilities.CreateInstance<LoggingDecisionSink>(sp), new MetricsDecisionSink() };
            if (sinks.Ndjson.Enabled)
                list.Add(new NdjsonDecisionSink(string.IsNullOrEmpty(sinks.Ndjson.Path) ? Path.Combine(dataDir, "decisions.ndjson") : sinks.Ndjson.Path,
                    sinks.Ndjson.Outcomes.Count > 0 ? sinks.Ndjson.Outcomes : ["sent"]));
            var outbox = new OutboxDecisionSink(sp.GetRequiredService<IStateStore>(), new CompositeDecisionSink(list));
            // Whatever was recorded before a crash and not yet delivered goes out before anything new.
            var redelivered = outbox.RedeliverAsync().GetAwaiter().GetResult();
            if (redelivered > 0) sp.GetRequiredService<ILogger<OutboxDecisionSink>>().LogWarning("Re-delivered {Count} decisions from the outbox", redelivered);
            return outbox;
        });

        // Actors.
        var connectionString = sqlite
            ? PrepareSqlite(persistence.ConnectionString, dataDir)
            : persistence.ConnectionString;
        builder.Services.AddSingleton(new JournalPurge(persistence.Provider, connectionString));
        builder.Services.AddAkka(EngineAkkaExtensions.SystemName, (b, _) => b
            .WithTriggerEngineSerialization()
            .WithTriggerEnginePersistence(persistence, connectionString)
            .WithTriggerEngineCluster(cluster));

        // HTTP.
        builder.Services.AddSingleton<Keys>();
        builder.Services.AddSingleton<AdmissionGate>();
        builder.Services.AddSingleton<EngineGateway>();
        builder.Services.AddCors(o => o.AddPolicy(SegmentApi.CorsPolicy, p =>
        {
            if (http.CorsOrigins.Count == 0 || http.CorsOrigins.Contains("*")) p.AllowAnyOrigin();
            else p.WithOrigins(http.CorsOrigins.ToArray());
            p.AllowAnyHeader().WithMethods("POST", "OPTIONS").SetPreflightMaxAge(TimeSpan.FromHours(1));
        }));

        var app = builder.Build();
        EngineMetrics.Observe(app.Services.GetRequiredService<MemoryGuard>(), app.Services.GetRequiredService<ResidencyLimit>(),
            app.Services.GetRequiredService<ProductResidency>().Limit);
        app.UseCors();
        app.UseHttpMetrics();
        app.MapSegmentApi();
        app.MapAdminApi();
        app.MapGet("/health/live", () => Results.Json(new { status = "live" }));
        app.MapGet("/health/ready", () =>
            Ready(app.Services) ? Results.Json(new { status = "ready" }) : Problems.Unavailable("Not ready: the cluster is not up or the ingest log is still replaying"));
        app.MapMetrics("/metrics");
        return app;
    }

    /// <summary>
    /// A stop saves every resident entity before the node leaves. Should it hang (an entity that never answers: seen once,
    /// after a run starved of memory, alive 7 min after SIGTERM), the process ends anyway <c>Engine:StopTimeout</c> after
    /// the stop began, as a crash would: every acknowledged event is in the ingest log, which the next start replays. For
    /// the engine's own process only (<c>Program</c>); a test host shares its process with the tests.
    /// </summary>
    public static void EndIfStopHangs(WebApplication app)
    {
        var timeout = app.Services.GetRequiredService<IOptions<EngineOptions>>().Value.StopTimeout;
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(TriggerEngineApp));
        app.Lifetime.ApplicationStopping.Register(() => new Thread(() =>
        {
            Thread.Sleep(timeout);
            var message = $"The engine did not stop within {timeout} (Engine:StopTimeout): ending the process; the next start replays the ingest log";
            log.LogCritical("{Message}", message);
            Console.Error.WriteLine(message); // the logger writes from its own queue, which the kill may cut short
            System.Diagnostics.Process.GetCurrentProcess().Kill();
        }) { IsBackground = true, Name = "stop-watchdog" }.Start());
    }

    private static bool Ready(IServiceProvider sp)
    {
        var system = sp.GetRequiredService<Akka.Actor.ActorSystem>();
        return Akka.Cluster.Cluster.Get(system).SelfMember.Status == MemberStatus.Up
            && sp.GetRequiredService<EngineReadiness>() is { LogRecovered: true, TimersRecovered: true };
    }

    /// <summary><c>config/</c> in the working directory when there is one (edit and reload in place), else beside the binary.</summary>
    private static string ConfigDirectory()
    {
        var local = Path.Combine(Directory.GetCurrentDirectory(), "config");
        return File.Exists(Path.Combine(local, "appsettings.json")) ? local : Path.Combine(AppContext.BaseDirectory, "config");
    }

    /// <summary>A rules file (reloaded on change) with the main configuration's section of the same name over it.</summary>
    private static IConfiguration RulesFile(IConfiguration main, string section, string configDir, string defaultFile)
    {
        var path = main[$"{section}:Path"] is { Length: > 0 } p ? Path.GetFullPath(p) : Path.Combine(configDir, defaultFile);
        return new ConfigurationBuilder()
            .AddJsonFile(path, optional: false, reloadOnChange: true)
            .AddConfiguration(main.GetSection(section))
            .Build();
    }

    /// <summary>The embedded journal: one SQLite file in WAL mode (set once; it is a property of the file).</summary>
    private static string PrepareSqlite(string connectionString, string dataDir)
    {
        var cs = string.IsNullOrEmpty(connectionString)
            ? new SqliteConnectionStringBuilder { DataSource = Path.Combine(dataDir, "engine.db") }.ToString()
            : connectionString;
        using var db = new SqliteConnection(cs);
        db.Open();
        using var cmd = db.CreateCommand();
        cmd.CommandText = "PRAGMA journal_mode=WAL;";
        cmd.ExecuteNonQuery();
        return cs;
    }
}
