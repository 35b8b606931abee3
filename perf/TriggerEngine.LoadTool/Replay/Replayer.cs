using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Spectre.Console;
using TriggerEngine.LoadTool.Oracle;
using TriggerEngine.LoadTool.Report;

namespace TriggerEngine.LoadTool.Replay;

internal sealed record ReplayOptions(
    IReadOnlyList<string> Urls, string Dir, int Batch = 100, bool MessagePack = false, int Connections = 16, double Rate = 0,
    string? ReportPrefix = null, string? DecisionsFile = null, bool NoWatermark = false, TimeSpan? Lateness = null,
    string WriteKey = "dev-write-key", string AdminKey = "dev-admin-key", string? ReferenceReport = null, bool? Progress = null);

/// <summary>The run was stopped: a request was refused for good (not 429/503, not a connection error).</summary>
internal sealed class ReplayFailedException(string message) : Exception(message);

/// <summary>
/// The replayer of perf/FORMAT.md: consents first (all connections), then the calls in <c>/v1/batch</c> requests over
/// <see cref="ReplayOptions.Connections"/> keep-alive connections (one HttpClient with one connection each, given
/// round-robin to the URLs). Each person's calls go in file order on one connection (<see cref="TrafficPlan.Partition"/>),
/// the connections move through event time in the lockstep window of <see cref="LockstepGate"/>, catalog lines go at
/// their position, and the final watermark is advanced at the end. 429/503 are retried after Retry-After and connection
/// errors after a back-off; nothing is dropped.
/// </summary>
internal static class Replayer
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    public static async Task<int> Run(ReplayOptions o, TextWriter log)
    {
        if (o.Urls.Count == 0) throw new ArgumentException("--url: at least one URL");
        if (o.Batch < 1 || o.Connections < 1) throw new ArgumentException("--batch and --connections must be positive");
        var lateness = o.Lateness ?? TimeSpan.FromMinutes(1);
        var window = LockstepGate.WindowFor(lateness);

        var loadWatch = Stopwatch.StartNew();
        var plan = TrafficPlan.Load(o.Dir, o.Connections, o.MessagePack);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"loaded {plan.Calls.Length} calls, {plan.Consents.Count} consents, {plan.Catalog.Count} catalog lines in {loadWatch.Elapsed.TotalSeconds:F1} s; " +
            $"{o.Connections} connections to {string.Join(", ", o.Urls)}, lateness {lateness} → window {window}"));

        var clock = Stopwatch.StartNew();
        long NowUs() => clock.ElapsedTicks * 1_000_000 / Stopwatch.Frequency;
        var startedAt = DateTime.UtcNow;
        var basic = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(o.WriteKey + ":")));
        var bearer = new AuthenticationHeaderValue("Bearer", o.AdminKey);

        var clients = Enumerable.Range(0, o.Connections).Select(i => NewClient(o.Urls[i % o.Urls.Count], 1)).ToArray();
        using var admin = NewClient(o.Urls[0], 1);
        var stats = Enumerable.Range(0, o.Connections).Select(_ => new ConnectionStats()).ToArray();
        var adminStats = new ConnectionStats();
        using var stop = new CancellationTokenSource();

        DecisionTail? tail = null;
        Task tailTask = Task.CompletedTask;
        if (o.DecisionsFile is { } df)
        {
            tail = new DecisionTail(df, NowUs, TimeSpan.FromMilliseconds(2));
            tailTask = Task.Run(() => tail.RunAsync(stop.Token));
        }

        try
        {
            // 1. consents, before any call; different customers, so any order and all connections
            int nextConsent = -1;
            await Task.WhenAll(Enumerable.Range(0, o.Connections).Select(async c =>
            {
                int k;
                while ((k = Interlocked.Increment(ref nextConsent)) < plan.Consents.Count)
                {
                    var (id, body) = plan.Consents[k];
                    await Send(clients[c], stats[c], () => Request(HttpMethod.Put, "/v1/consent/" + Uri.EscapeDataString(id), Json(body), bearer), NowUs, log, record: false, CancellationToken.None);
                }
            }));
            double consentSeconds = NowUs() / 1e6;

            // 2. calls and catalog lines, lockstep in event time
            var gate = new LockstepGate(plan.Calls.Select(c => c.FrontTicks).ToArray(), plan.Catalog.Select(c => c.AfterCall).ToArray(), window);
            var sync = new object();
            var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var abort = new CancellationTokenSource();
            Exception? failure = null;
            void Fail(Exception e) { lock (sync) failure ??= e; abort.Cancel(); }
            void Signal() { var old = changed; changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously); old.TrySetResult(); }
            long acked = 0;
            var rate = o.Rate > 0 ? new RateLimiter(o.Rate) : null;
            var queues = new List<int>[o.Connections];
            for (int c = 0; c < o.Connections; c++) queues[c] = new List<int>();
            foreach (var call in plan.Calls) queues[call.Partition].Add(call.Index);

            var callSend = new long[plan.Calls.Length];
            var callAck = new long[plan.Calls.Length];
            long phaseStart = NowUs();
            async Task Connection(int c)
            {
                var q = queues[c];
                int pos = 0;
                var bodies = new List<byte[]>(o.Batch);
                while (pos < q.Count)
                {
                    int n = 0;
                    Task wait;
                    lock (sync)
                    {
                        while (n < o.Batch && pos + n < q.Count && gate.CanSend(q[pos + n])) n++;
                        wait = changed.Task;
                    }
                    if (n == 0) { await wait.WaitAsync(abort.Token); continue; }
                    bodies.Clear();
                    long maxTs = long.MinValue;
                    for (int k = pos; k < pos + n; k++) { var call = plan.Calls[q[k]]; bodies.Add(call.Body); maxTs = Math.Max(maxTs, call.TsTicks); }
                    var body = TrafficPlan.BatchBody(bodies, plan.MessagePack);
                    if (rate is not null) await rate.WaitAsync(n).WaitAsync(abort.Token);
                    var (s, e) = await Send(clients[c], stats[c], () => Request(HttpMethod.Post, "/v1/batch", Batch(body, plan.MessagePack), basic), NowUs, log, record: true, abort.Token);
                    stats[c].Samples.Add(new RequestSample(s, e, n, maxTs));
                    for (int k = pos; k < pos + n; k++) { callSend[q[k]] = s; callAck[q[k]] = e; }
                    stats[c].Events += n;
                    lock (sync)
                    {
                        for (int k = pos; k < pos + n; k++) gate.Acknowledge(q[k]);
                        acked += n;
                        Signal();
                    }
                    pos += n;
                }
            }
            async Task CatalogFeed()
            {
                while (true)
                {
                    int k;
                    Task wait;
                    lock (sync)
                    {
                        if (gate.AllAcknowledged) return;
                        k = gate.TakeDueCatalog();
                        wait = changed.Task;
                    }
                    if (k < 0) { await wait.WaitAsync(abort.Token); continue; }
                    foreach (var body in plan.Catalog[k].Bodies)
                        await Send(admin, adminStats, () => Request(HttpMethod.Post, "/v1/catalog", Json(body), bearer), NowUs, log, record: false, abort.Token);
                    lock (sync) { gate.CatalogAcknowledged(); Signal(); }
                }
            }

            async Task Guard(Func<Task> body)
            {
                try { await body(); }
                catch (OperationCanceledException) when (abort.IsCancellationRequested) { }
                catch (Exception e) { Fail(e); }
            }
            var work = Task.WhenAll(Enumerable.Range(0, o.Connections).Select(c => Task.Run(() => Guard(() => Connection(c)))).Append(Task.Run(() => Guard(CatalogFeed))));
            string Problems()
            {
                long errs = 0, retries = 0;
                foreach (var s in stats.Append(adminStats)) { retries += Interlocked.Read(ref s.Retries); lock (s.Errors) errs += s.Errors.Values.Sum(); }
                return errs == 0 ? "" : $", {errs} errors, {retries} retries";
            }
            await ShowProgress(work, () => Interlocked.Read(ref acked), plan.Calls.Length, Problems, o.Progress, log);
            await work;
            if (failure is not null) throw failure is ReplayFailedException ? failure : new ReplayFailedException(failure.ToString());
            long phaseEnd = NowUs();

            // 3. the final watermark
            double? watermarkSeconds = null;
            var final = Time.Format(plan.FinalWatermark);
            var samples = stats.SelectMany(s => s.Samples).ToList();
            if (!o.NoWatermark)
            {
                var (ws, we) = await Send(admin, adminStats, () => Request(HttpMethod.Post, "/v1/admin/watermark", Json(JsonSerializer.Serialize(new { to = final })), bearer), NowUs, log, record: false, CancellationToken.None);
                watermarkSeconds = (we - ws) / 1e6;
                samples.Add(new RequestSample(ws, we, 0, plan.FinalWatermark.Ticks + lateness.Ticks));
            }
            await Task.Delay(100); // let the tail see the last lines
            await stop.CancelAsync();
            await tailTask;

            // 4. figures
            var all = stats.Append(adminStats).ToArray();
            var latency = ConnectionStats.NewHistogram();
            foreach (var s in stats) latency.Add(s.Latency);
            var errors = new SortedDictionary<string, long>(StringComparer.Ordinal);
            foreach (var s in all) foreach (var (k, v) in s.Errors) errors[k] = errors.GetValueOrDefault(k) + v;
            long requests = stats.Sum(s => s.Samples.Count);
            double seconds = Math.Max(1e-6, (phaseEnd - phaseStart) / 1e6);
            var figures = new ReplayFigures
            {
                StartedAt = startedAt.ToString("O", CultureInfo.InvariantCulture),
                Urls = o.Urls.ToArray(),
                Traffic = Path.GetFullPath(o.Dir),
                Format = o.MessagePack ? "msgpack" : "json",
                Batch = o.Batch,
                Connections = o.Connections,
                Rate = o.Rate,
                AllowedLateness = lateness.ToString("c", CultureInfo.InvariantCulture),
                Window = window.ToString("c", CultureInfo.InvariantCulture),
                Machine = Machine(),
                Consents = plan.Consents.Count,
                ConsentSeconds = Math.Round(consentSeconds, 3),
                Events = plan.Calls.Length,
                CatalogLines = plan.Catalog.Count,
                Requests = requests,
                DurationSeconds = Math.Round(seconds, 3),
                EventsPerSecond = Math.Round(plan.Calls.Length / seconds, 1),
                RequestsPerSecond = Math.Round(requests / seconds, 1),
                MeanEventsPerRequest = requests == 0 ? 0 : Math.Round((double)plan.Calls.Length / requests, 2),
                HttpLatency = Percentiles.From(latency),
                ErrorsByStatus = new Dictionary<string, long>(errors),
                Retries = all.Sum(s => s.Retries),
                WatermarkSeconds = watermarkSeconds is { } w ? Math.Round(w, 3) : null,
                FinalWatermark = o.NoWatermark ? null : final,
                DecisionLines = tail?.Lines ?? 0,
                DecisionLatency = tail is null ? null : ReplayFigures.Decisions(samples, tail.Seen.ToList(), lateness, CustomerCause(plan, callSend, callAck)),
                Series = ReplayFigures.SeriesOf(stats.SelectMany(s => s.Samples), phaseStart),
            };
            if (o.ReferenceReport is { } rf) figures = figures.WithReference(rf, ReplayFigures.FromJson(File.ReadAllText(rf)));
            figures.Print(log);
            if (o.ReportPrefix is { } prefix)
            {
                var dir = Path.GetDirectoryName(Path.GetFullPath(prefix + ".json"));
                if (dir is not null) Directory.CreateDirectory(dir);
                File.WriteAllText(prefix + ".json", figures.ToJson());
                File.WriteAllText(prefix + ".html", HtmlReport.Render(figures));
                log.WriteLine($"report: {prefix}.json, {prefix}.html");
            }
            return 0;
        }
        catch (ReplayFailedException e)
        {
            log.WriteLine($"replay stopped: {e.Message}");
            return 1;
        }
        finally
        {
            if (!stop.IsCancellationRequested) await stop.CancelAsync();
            foreach (var c in clients) c.Dispose();
        }
    }

    /// <summary>For a decision: send and ack of the request carrying its customer's first call after <c>decidedAt</c>.</summary>
    private static Func<SeenDecision, (long, long)?> CustomerCause(TrafficPlan plan, long[] send, long[] ack)
    {
        var byPerson = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        foreach (var c in plan.Calls)
        {
            if (!byPerson.TryGetValue(c.Person, out var l)) byPerson[c.Person] = l = new List<int>();
            l.Add(c.Index);
        }
        return d =>
        {
            if (!byPerson.TryGetValue(TrafficPlan.PersonKey(d.CustomerId, null), out var calls)) return null;
            foreach (var i in calls) // file order
                if (plan.Calls[i].TsTicks > d.DecidedAtTicks) return (send[i], ack[i]);
            return null;
        };
    }

    private static HttpClient NewClient(string url, int connections) =>
        new(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = connections,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
        })
        { BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(10) };

    private static HttpRequestMessage Request(HttpMethod method, string path, HttpContent content, AuthenticationHeaderValue auth)
    {
        var req = new HttpRequestMessage(method, path) { Content = content, Version = HttpVersion.Version11 };
        req.Headers.Authorization = auth;
        return req;
    }

    private static ByteArrayContent Json(string body)
    {
        var c = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        c.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return c;
    }

    private static ByteArrayContent Batch(byte[] body, bool messagePack)
    {
        var c = new ByteArrayContent(body);
        c.Headers.ContentType = new MediaTypeHeaderValue(messagePack ? "application/x-msgpack" : "application/json");
        return c;
    }

    /// <summary>
    /// Sends until a 2xx: 429/503 wait Retry-After (1 s without one), connection errors and other 5xx back off
    /// (100 ms doubling to 5 s; other 5xx at most 10 times); any other status stops the run. Returns (start, end) in µs
    /// of the successful attempt. Latency of 2xx answers goes to the histogram when <paramref name="record"/>.
    /// </summary>
    private static async Task<(long Start, long End)> Send(HttpClient http, ConnectionStats st, Func<HttpRequestMessage> make,
        Func<long> nowUs, TextWriter log, bool record, CancellationToken ct)
    {
        var backoff = TimeSpan.FromMilliseconds(100);
        int serverErrors = 0;
        for (; ; )
        {
            long t0 = nowUs();
            HttpStatusCode status;
            string text;
            TimeSpan? retryAfter;
            try
            {
                using var req = make();
                using var res = await http.SendAsync(req, ct);
                text = await res.Content.ReadAsStringAsync(ct);
                status = res.StatusCode;
                retryAfter = res.Headers.RetryAfter is { } ra ? ra.Delta ?? (ra.Date is { } d ? d - DateTimeOffset.UtcNow : null) : null;
            }
            catch (Exception e) when (!ct.IsCancellationRequested && e is HttpRequestException or TaskCanceledException or IOException)
            {
                st.Error("connection");
                Interlocked.Increment(ref st.Retries);
                await Task.Delay(backoff, ct);
                backoff = Min(backoff * 2, MaxBackoff);
                continue;
            }
            long t1 = nowUs();
            int code = (int)status;
            if (code is >= 200 and < 300)
            {
                if (record) { st.Latency.RecordValue(Math.Clamp(t1 - t0, 1, 3_600_000_000L)); st.Requests++; }
                if (text.Contains("\"success\":false", StringComparison.Ordinal))
                {
                    st.Error("200-partial");
                    log.WriteLine($"warning: partially rejected: {Trim(text)}");
                }
                return (t0, t1);
            }
            st.Error(code.ToString(CultureInfo.InvariantCulture));
            if (status is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable)
            {
                Interlocked.Increment(ref st.Retries);
                var wait = retryAfter is { } r && r > TimeSpan.Zero ? r : TimeSpan.FromSeconds(1);
                await Task.Delay(Min(wait, TimeSpan.FromMinutes(1)), ct);
                continue;
            }
            if (code >= 500 && ++serverErrors <= 10)
            {
                Interlocked.Increment(ref st.Retries);
                await Task.Delay(backoff, ct);
                backoff = Min(backoff * 2, MaxBackoff);
                continue;
            }
            throw new ReplayFailedException($"{code} {Trim(text)}");
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
    private static string Trim(string s) => s.Length > 300 ? s[..300] + "…" : s;

    private static async Task ShowProgress(Task work, Func<long> acked, long total, Func<string> problems, bool? wanted, TextWriter log)
    {
        bool live = wanted ?? (!Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive);
        var watch = Stopwatch.StartNew();
        string Line()
        {
            long a = acked();
            return string.Create(CultureInfo.InvariantCulture, $"{a}/{total} events, {a / Math.Max(0.001, watch.Elapsed.TotalSeconds):F0}/s{problems()}");
        }
        if (!live)
        {
            while (await Task.WhenAny(work, Task.Delay(TimeSpan.FromSeconds(10))) != work) log.WriteLine("  " + Line());
            return;
        }
        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .StartAsync(async ctx =>
            {
                var t = ctx.AddTask("replay", maxValue: Math.Max(1, total));
                while (!work.IsCompleted)
                {
                    t.Value = acked();
                    t.Description = Line();
                    await Task.WhenAny(work, Task.Delay(200));
                }
                t.Value = acked();
                t.Description = Line();
            });
    }

    private static Dictionary<string, string> Machine() => new(StringComparer.Ordinal)
    {
        ["processors"] = Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture),
        ["os"] = RuntimeInformation.OSDescription,
        ["runtime"] = RuntimeInformation.FrameworkDescription,
    };
}

/// <summary>Paces sends to a fixed event rate across all connections.</summary>
internal sealed class RateLimiter(double eventsPerSecond)
{
    private readonly object _gate = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private double _next;

    public Task WaitAsync(int events)
    {
        double due;
        lock (_gate)
        {
            double now = _clock.Elapsed.TotalSeconds;
            due = Math.Max(_next, now);
            _next = due + events / eventsPerSecond;
            due -= now;
        }
        return due > 0.001 ? Task.Delay(TimeSpan.FromSeconds(due)) : Task.CompletedTask;
    }
}
