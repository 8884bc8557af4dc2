using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ScrapeDo.Lean.Emulator.Internal;

namespace ScrapeDo.Lean.Emulator;

/// <summary>
/// A local Scrape.do Async API on Kestrel, bound to 127.0.0.1 only. Start it with <see cref="StartAsync"/>, point a
/// client at <see cref="BaseAddress"/> with one of the configured tokens, and dispose it to stop.
/// </summary>
public sealed class ScrapeDoEmulator : IAsyncDisposable
{
    private const long MaxCreateBodyBytes = 32L * 1024 * 1024;

    private readonly WebApplication _app;
    private readonly Engine _engine;
    private readonly FaultInjector _faults;
    private readonly WebhookDispatcher _webhooks;
    private int _stopped;

    private ScrapeDoEmulator(EmulatorOptions options, WebApplication app, Engine engine, WebhookDispatcher webhooks)
    {
        Options = options;
        _app = app;
        _engine = engine;
        _webhooks = webhooks;
        _faults = new FaultInjector(options.Faults, options.Seed);
    }

    /// <summary>The options the emulator runs with.</summary>
    public EmulatorOptions Options { get; }

    /// <summary>What the emulator has seen so far.</summary>
    public EmulatorCounters Counters => _engine.Counters;

    /// <summary>The address to give a client, e.g. <c>http://127.0.0.1:43123/</c>.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>How many times a task's details were fetched (0 for an unknown task).</summary>
    public int TaskFetchCount(string jobId, string taskId) => _engine.TaskFetchCount(jobId, taskId);

    /// <summary>Most fetches of any one task so far.</summary>
    public int MaxFetchesOfAnyTask => _engine.AllJobs.SelectMany(j => j.Tasks).Select(t => t.Fetches).DefaultIfEmpty(0).Max();

    /// <summary>Starts the emulator and returns once it listens on 127.0.0.1.</summary>
    /// <param name="options">Settings; null for the defaults (one <c>pro</c> account, token <see cref="EmulatorOptions.DefaultToken"/>).</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static async Task<ScrapeDoEmulator> StartAsync(EmulatorOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new EmulatorOptions();
        options.Validate();
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], EnvironmentName = "Production" });
        builder.Logging.ClearProviders();
        // The host must not take over Ctrl-C or SIGTERM of the process that embeds it (tests, the CLI).
        builder.Services.AddSingleton<IHostLifetime, EmbeddedHostLifetime>();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = MaxCreateBodyBytes;
            k.Listen(IPAddress.Loopback, options.Port);
        });

        WebApplication app = builder.Build();
        var counters = new EmulatorCounters();
        var webhooks = new WebhookDispatcher(options.Webhooks, options.TimeProvider, counters);
        var engine = new Engine(options, counters, webhooks);
        webhooks.Attach(engine.Content);
        var emulator = new ScrapeDoEmulator(options, app, engine, webhooks);
        app.Run(emulator.HandleAsync);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        emulator.BaseAddress = new Uri(address.EndsWith('/') ? address : address + "/");
        return emulator;
    }

    /// <summary>Runs until <paramref name="cancellationToken"/> is canceled, then stops.</summary>
    public async Task RunUntilCanceledAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Stops listening, ends webhook deliveries and releases the port.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        await _webhooks.DisposeAsync().ConfigureAwait(false);
        using (var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            await _app.StopAsync(stopTimeout.Token).ConfigureAwait(false);
        }

        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private async Task HandleAsync(HttpContext context)
    {
        long inFlight = Interlocked.Increment(ref Counters.InFlight);
        EmulatorCounters.RaiseMax(ref Counters.MaxInFlight, inFlight);
        try
        {
            await RouteAsync(context).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref Counters.InFlight);
        }
    }

    private async Task RouteAsync(HttpContext context)
    {
        HttpRequest request = context.Request;
        string path = request.Path.Value ?? "/";
        if (path == "/_emulator/stats" && HttpMethods.IsGet(request.Method))
        {
            await WriteAsync(context, 200, w => WriteStats(w.Json), Fault.None).ConfigureAwait(false);
            return;
        }

        if (!path.StartsWith("/api/v1/", StringComparison.Ordinal))
        {
            await ErrorAsync(context, 404, "Not found.", Fault.None).ConfigureAwait(false);
            return;
        }

        string[] segments = path["/api/v1/".Length..].TrimEnd('/').Split('/');
        string method = request.Method;
        ref long endpointCounter = ref EndpointCounter(segments, method);
        Interlocked.Increment(ref endpointCounter);

        AccountState? account = _engine.Account(request.Headers["X-Token"].ToString());
        if (account is null)
        {
            Interlocked.Increment(ref Counters.UnauthorizedRequests);
            await ErrorAsync(context, 401, "Unauthorized: missing or invalid X-Token.", Fault.None).ConfigureAwait(false);
            return;
        }

        if (RateLimited(account))
        {
            Interlocked.Increment(ref Counters.RateLimited);
            context.Response.Headers.RetryAfter = "1";
            await ErrorAsync(context, 429, "Too many requests: rate limit exceeded.", Fault.None).ConfigureAwait(false);
            return;
        }

        (Fault fault, int faultStatus) = _faults.Next();
        switch (fault)
        {
            case Fault.RateLimit:
                Interlocked.Increment(ref Counters.InjectedRateLimits);
                context.Response.Headers.RetryAfter = Options.Faults.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                await ErrorAsync(context, 429, "Too many requests (emulated).", Fault.None).ConfigureAwait(false);
                return;
            case Fault.ServerError:
                Interlocked.Increment(ref Counters.InjectedServerErrors);
                await ErrorAsync(context, faultStatus, "Internal error (emulated).", Fault.None).ConfigureAwait(false);
                return;
            case Fault.Slow:
                Interlocked.Increment(ref Counters.InjectedSlow);
                try
                {
                    await Task.Delay(Options.Faults.SlowDelay, Options.TimeProvider, context.RequestAborted).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                fault = Fault.None;
                break;
        }

        switch (segments.Length, method)
        {
            case (1, "GET") when segments[0] == "me":
                var me = _engine.Me(account);
                await WriteAsync(context, 200, w => w.Me(me.ActiveJobs, me.Credits, me.Free, me.Total), fault).ConfigureAwait(false);
                return;
            case (1, "POST") when segments[0] == "jobs":
                await CreateAsync(context, account, fault).ConfigureAwait(false);
                return;
            case (1, "GET") when segments[0] == "jobs":
                await ListAsync(context, account, fault).ConfigureAwait(false);
                return;
            case (2, "GET" or "DELETE") when segments[0] == "jobs":
                await JobAsync(context, account, segments[1], method == "DELETE", fault).ConfigureAwait(false);
                return;
            case (3, "GET") when segments[0] == "jobs":
                await TaskAsync(context, account, segments[1], segments[2], fault).ConfigureAwait(false);
                return;
            default:
                await ErrorAsync(context, 404, $"No endpoint {method} {path}.", fault).ConfigureAwait(false);
                return;
        }
    }

    private async Task CreateAsync(HttpContext context, AccountState account, Fault fault)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(context.Request.Body, new JsonDocumentOptions { MaxDepth = 32 }, context.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            await BadRequestAsync(context, $"Invalid JSON body: {ex.Message}", fault).ConfigureAwait(false);
            return;
        }
        catch (BadHttpRequestException ex)
        {
            await BadRequestAsync(context, $"Invalid request body: {ex.Message}", fault).ConfigureAwait(false);
            return;
        }

        JobRequest? parsed = CreateJobParser.Parse(document, Options, out string? error);
        if (parsed is null)
        {
            document.Dispose();
            await BadRequestAsync(context, error!, fault).ConfigureAwait(false);
            return;
        }

        JobState? job = _engine.Create(account, parsed, out error);
        if (job is null)
        {
            document.Dispose();
            await ErrorAsync(context, 429, error!, fault).ConfigureAwait(false);
            return;
        }

        ResponseWriter writer = ResponseWriter.Rent();
        try
        {
            writer.Created(job);
            writer.Flush();
            // Tasks start only after the answer is built, as the real service answers with queuing tasks.
            _engine.Enqueue(job);
            await SendAsync(context, 200, writer.Written, fault).ConfigureAwait(false);
        }
        finally
        {
            ResponseWriter.Return(writer);
        }
    }

    private async Task ListAsync(HttpContext context, AccountState account, Fault fault)
    {
        IQueryCollection query = context.Request.Query;
        int page = 1, size = 10;
        if ((query.TryGetValue("page", out var p) && (!int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out page) || page < 1))
            || (query.TryGetValue("page_size", out var s) && (!int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size is < 1 or > 100)))
        {
            await BadRequestAsync(context, "Invalid page or page_size: page >= 1, page_size 1-100.", fault).ConfigureAwait(false);
            return;
        }

        TaskPhase? status = null;
        if (query.TryGetValue("status", out var st))
        {
            if (!TaskPhaseNames.TryParse(st.ToString(), out TaskPhase parsed))
            {
                await BadRequestAsync(context, $"Invalid status '{st}'.", fault).ConfigureAwait(false);
                return;
            }

            status = parsed;
        }

        DateTimeOffset? from = null, to = null;
        if ((query.TryGetValue("start_from", out var f) && !TryTime(f.ToString(), out from))
            || (query.TryGetValue("start_to", out var t) && !TryTime(t.ToString(), out to)))
        {
            await BadRequestAsync(context, "Invalid start_from or start_to: use RFC 3339, e.g. 2026-11-17T00:00:00Z.", fault).ConfigureAwait(false);
            return;
        }

        string sort = query.TryGetValue("sort", out var so) ? so.ToString() : "start_time_desc";
        if (sort is not ("start_time_desc" or "start_time_asc"))
        {
            await BadRequestAsync(context, "Invalid sort: start_time_desc or start_time_asc.", fault).ConfigureAwait(false);
            return;
        }

        string? wantedStatus = status is { } ws ? TaskPhaseNames.Wire(ws) : null;
        List<JobState> matching = _engine.Jobs(account)
            .Where(j => (from is null || j.Created >= from) && (to is null || j.Created <= to) && (wantedStatus is null || j.Status(Options.JobStatusRule) == wantedStatus))
            .ToList();
        matching.Sort((a, b) => sort == "start_time_asc" ? a.Created.CompareTo(b.Created) : b.Created.CompareTo(a.Created));
        List<JobState> pageJobs = matching.Skip((int)Math.Min(int.MaxValue, (long)(page - 1) * size)).Take(size).ToList();
        await WriteAsync(context, 200, w => w.List(pageJobs, matching.Count, size, page, Options.JobStatusRule), fault).ConfigureAwait(false);
    }

    private async Task JobAsync(HttpContext context, AccountState account, string jobId, bool cancel, Fault fault)
    {
        if (!Guid.TryParse(jobId, out _))
        {
            await BadRequestAsync(context, "Invalid job ID.", fault).ConfigureAwait(false);
            return;
        }

        JobState? job = _engine.FindJob(account, jobId);
        if (job is null)
        {
            await ErrorAsync(context, 404, "Job not found.", fault).ConfigureAwait(false);
            return;
        }

        if (cancel && !_engine.Cancel(job))
        {
            await ErrorAsync(context, 406, "Job is already finished and cannot be canceled.", fault).ConfigureAwait(false);
            return;
        }

        await WriteAsync(context, 200, w => w.Job(job, Options.JobStatusRule), fault).ConfigureAwait(false);
    }

    private async Task TaskAsync(HttpContext context, AccountState account, string jobId, string taskId, Fault fault)
    {
        if (!Guid.TryParse(jobId, out _) || !Guid.TryParse(taskId, out _))
        {
            await BadRequestAsync(context, "Invalid job or task ID.", fault).ConfigureAwait(false);
            return;
        }

        JobState? job = _engine.FindJob(account, jobId);
        if (job is null || !job.TasksById.TryGetValue(taskId, out TaskState? task))
        {
            await ErrorAsync(context, 404, job is null ? "Job not found." : "Task not found.", fault).ConfigureAwait(false);
            return;
        }

        task.CountFetch();
        if (_engine.Now >= job.ExpiresAt)
        {
            await ErrorAsync(context, 410, "Task response content is no longer available.", fault).ConfigureAwait(false);
            return;
        }

        await WriteAsync(context, 200, w => w.Task(task, _engine.Content), fault).ConfigureAwait(false);
    }

    private ref long EndpointCounter(string[] segments, string method)
    {
        if (segments is ["me"])
        {
            return ref Counters.MeRequests;
        }

        if (segments.Length == 1)
        {
            return ref method == "POST" ? ref Counters.CreateRequests : ref Counters.ListRequests;
        }

        if (segments.Length == 2)
        {
            return ref method == "DELETE" ? ref Counters.CancelRequests : ref Counters.GetJobRequests;
        }

        return ref Counters.GetTaskRequests;
    }

    private bool RateLimited(AccountState account)
    {
        int limit = Options.Faults.RequestsPerSecondPerToken;
        if (limit <= 0)
        {
            return false;
        }

        long second = Options.TimeProvider.GetUtcNow().ToUnixTimeSeconds();
        lock (account.Lock)
        {
            if (account.RateWindowStart != second)
            {
                account.RateWindowStart = second;
                account.RateWindowCount = 0;
            }

            return ++account.RateWindowCount > limit;
        }
    }

    private void WriteStats(Utf8JsonWriter w)
    {
        EmulatorCounters c = Counters;
        w.WriteStartObject();
        w.WriteNumber("Creates", c.Creates);
        w.WriteNumber("JobPolls", c.JobPolls);
        w.WriteNumber("TaskFetches", c.TaskFetches);
        w.WriteNumber("Lists", c.Lists);
        w.WriteNumber("Cancels", c.Cancels);
        w.WriteNumber("AccountRequests", c.AccountRequests);
        w.WriteNumber("Unauthorized", c.Unauthorized);
        w.WriteNumber("Rejected", c.Rejected);
        w.WriteNumber("Jobs", c.Jobs);
        w.WriteNumber("Tasks", c.Tasks);
        w.WriteNumber("CompletedTasks", c.CompletedTasks);
        w.WriteNumber("Injected429", c.Injected429);
        w.WriteNumber("Injected5xx", c.Injected5xx);
        w.WriteNumber("InjectedDrops", c.InjectedDropCount);
        w.WriteNumber("InjectedTruncations", c.InjectedTruncationCount);
        w.WriteNumber("InjectedSlow", c.InjectedSlowCount);
        w.WriteNumber("MaxConcurrentRequests", c.MaxConcurrentRequests);
        w.WriteNumber("MaxConcurrentTasks", c.MaxConcurrentTasks);
        w.WriteNumber("MaxFetchesOfAnyTask", MaxFetchesOfAnyTask);
        w.WriteNumber("WebhookAttempts", c.WebhookAttemptCount);
        w.WriteNumber("WebhookDelivered", c.WebhookDeliveredCount);
        w.WriteNumber("WebhookFailed", c.WebhookFailedCount);
        w.WriteEndObject();
    }

    private Task BadRequestAsync(HttpContext context, string message, Fault fault)
    {
        Interlocked.Increment(ref Counters.BadRequests);
        return ErrorAsync(context, 400, message, fault);
    }

    private Task ErrorAsync(HttpContext context, int status, string message, Fault fault) =>
        WriteAsync(context, status, w => w.Error(message, status), fault);

    private async Task WriteAsync(HttpContext context, int status, Action<ResponseWriter> write, Fault fault)
    {
        ResponseWriter writer = ResponseWriter.Rent();
        try
        {
            write(writer);
            writer.Flush();
            await SendAsync(context, status, writer.Written, fault).ConfigureAwait(false);
        }
        finally
        {
            ResponseWriter.Return(writer);
        }
    }

    private async Task SendAsync(HttpContext context, int status, ReadOnlyMemory<byte> body, Fault fault)
    {
        if (fault == Fault.Drop)
        {
            Interlocked.Increment(ref Counters.InjectedDrops);
            context.Abort();
            return;
        }

        HttpResponse response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/json";
        response.ContentLength = body.Length;
        if (fault == Fault.Truncate)
        {
            Interlocked.Increment(ref Counters.InjectedTruncations);
            await response.Body.WriteAsync(body[..(body.Length / 2)], context.RequestAborted).ConfigureAwait(false);
            await response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
            context.Abort();
            return;
        }

        await response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    private static bool TryTime(string text, out DateTimeOffset? value)
    {
        bool ok = DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset parsed);
        value = ok ? parsed : null;
        return ok;
    }

    private sealed class EmbeddedHostLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
