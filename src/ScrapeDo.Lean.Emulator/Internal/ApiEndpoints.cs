using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace ScrapeDo.Lean.Emulator.Internal;

/// <summary>
/// The API surface of the emulator: routes a request, checks its token and rate, draws its fault, and answers it
/// from the <see cref="Engine"/>. Each endpoint of async-api.md is one handler below; writing the answer (and the
/// transport faults applied while writing) is <see cref="ResponseSender"/>'s job.
/// </summary>
internal sealed class ApiEndpoints(EmulatorOptions options, Engine engine, FaultInjector faults)
{
    private readonly EmulatorOptions _options = options;
    private readonly Engine _engine = engine;
    private readonly FaultInjector _faults = faults;
    private readonly EmulatorCounters _counters = engine.Counters;
    private readonly ResponseSender _send = new(engine.Counters, options.Faults.NullZeroValues);
    private readonly ForeignClient _foreign = new(engine, options.Faults, options.TimeProvider);

    public async Task HandleAsync(HttpContext context)
    {
        long inFlight = Interlocked.Increment(ref _counters.InFlight);
        EmulatorCounters.RaiseMax(ref _counters.MaxInFlight, inFlight);
        try
        {
            await RouteAsync(context).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _counters.InFlight);
        }
    }

    private async Task RouteAsync(HttpContext context)
    {
        HttpRequest request = context.Request;
        string path = request.Path.Value ?? "/";
        if (path == "/_emulator/stats" && HttpMethods.IsGet(request.Method))
        {
            await _send.WriteAsync(context, 200, w => _counters.WriteJson(w.Json, _engine.MaxFetchesOfAnyTask), Fault.None).ConfigureAwait(false);
            return;
        }

        if (!path.StartsWith("/api/v1/", StringComparison.Ordinal))
        {
            await _send.ErrorAsync(context, 404, "Not found.", Fault.None).ConfigureAwait(false);
            return;
        }

        string[] segments = path["/api/v1/".Length..].TrimEnd('/').Split('/');
        string method = request.Method;
        ref long endpointCounter = ref EndpointCounter(segments, method);
        Interlocked.Increment(ref endpointCounter);

        AccountState? account = _engine.Account(request.Headers["X-Token"].ToString());
        if (account is null)
        {
            Interlocked.Increment(ref _counters.UnauthorizedRequests);
            await _send.ErrorAsync(context, 401, "Unauthorized: missing or invalid X-Token.", Fault.None).ConfigureAwait(false);
            return;
        }

        if (RateLimited(account))
        {
            Interlocked.Increment(ref _counters.RateLimited);
            context.Response.Headers.RetryAfter = "1";
            await _send.ErrorAsync(context, 429, "Too many requests: rate limit exceeded.", Fault.None).ConfigureAwait(false);
            return;
        }

        (Fault fault, int faultStatus) = _faults.Next();
        switch (fault)
        {
            case Fault.RateLimit:
                Interlocked.Increment(ref _counters.InjectedRateLimits);
                context.Response.Headers.RetryAfter = _options.Faults.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                await _send.ErrorAsync(context, 429, "Too many requests (emulated).", Fault.None).ConfigureAwait(false);
                return;
            case Fault.ServerError:
                Interlocked.Increment(ref _counters.InjectedServerErrors);
                await _send.ErrorAsync(context, faultStatus, "Internal error (emulated).", Fault.None).ConfigureAwait(false);
                return;
            case Fault.Slow:
                Interlocked.Increment(ref _counters.InjectedSlow);
                try
                {
                    await Task.Delay(_options.Faults.SlowDelay, _options.TimeProvider, context.RequestAborted).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                fault = Fault.None;
                break;
        }

        if (method == "GET" && _faults.NextNonJson(GetKind(segments)))
        {
            await _send.NonJsonAsync(context).ConfigureAwait(false);
            return;
        }

        switch (segments.Length, method)
        {
            case (1, "GET") when segments[0] == "me":
                var me = _engine.Me(account);
                await _send.WriteAsync(context, 200, w => w.Me(me.ActiveJobs, me.Credits, me.Free, me.Total), fault).ConfigureAwait(false);
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
                await _send.ErrorAsync(context, 404, $"No endpoint {method} {path}.", fault).ConfigureAwait(false);
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
            await _send.BadRequestAsync(context, $"Invalid JSON body: {ex.Message}", fault).ConfigureAwait(false);
            return;
        }
        catch (BadHttpRequestException ex)
        {
            await _send.BadRequestAsync(context, $"Invalid request body: {ex.Message}", fault).ConfigureAwait(false);
            return;
        }

        JobRequest? parsed = CreateJobParser.Parse(document, _options, out string? error);
        if (parsed is null)
        {
            document.Dispose();
            await _send.BadRequestAsync(context, error!, fault).ConfigureAwait(false);
            return;
        }

        bool twin = false;
        JobState? job = _engine.Create(account, parsed, out error, shape: j => twin = _faults.ShapeNewJob(j));
        if (job is null)
        {
            document.Dispose();
            await _send.ErrorAsync(context, 429, error!, fault).ConfigureAwait(false);
            return;
        }

        (CreateFault createFault, int errorStatus) = _faults.NextCreate();
        if (twin)
        {
            _foreign.CreateTwinLater(job);
        }

        ResponseWriter writer = ResponseWriter.Rent();
        try
        {
            writer.Created(job);
            writer.Flush();
            // Tasks start only after the answer is built, as the real service answers with queuing tasks.
            _engine.Enqueue(job);
            if (createFault == CreateFault.CommitThenError)
            {
                // The job is committed and running; only its answer is lost.
                Interlocked.Increment(ref _counters.InjectedCommitThenErrors);
                await _send.ErrorAsync(context, errorStatus, "Internal error after the job was created (emulated).", fault).ConfigureAwait(false);
                return;
            }

            if (createFault == CreateFault.CommitThenSlow)
            {
                Interlocked.Increment(ref _counters.InjectedCommitThenSlows);
                try
                {
                    await Task.Delay(_options.Faults.CommitThenSlowDelay, _options.TimeProvider, context.RequestAborted).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            await _send.SendAsync(context, 200, writer.Written, fault).ConfigureAwait(false);
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
            await _send.BadRequestAsync(context, "Invalid page or page_size: page >= 1, page_size 1-100.", fault).ConfigureAwait(false);
            return;
        }

        TaskPhase? status = null;
        if (query.TryGetValue("status", out var st))
        {
            if (!TaskPhaseNames.TryParse(st.ToString(), out TaskPhase parsed))
            {
                await _send.BadRequestAsync(context, $"Invalid status '{st}'.", fault).ConfigureAwait(false);
                return;
            }

            status = parsed;
        }

        DateTimeOffset? from = null, to = null;
        if ((query.TryGetValue("start_from", out var f) && !TryTime(f.ToString(), out from))
            || (query.TryGetValue("start_to", out var t) && !TryTime(t.ToString(), out to)))
        {
            await _send.BadRequestAsync(context, "Invalid start_from or start_to: use RFC 3339, e.g. 2026-11-17T00:00:00Z.", fault).ConfigureAwait(false);
            return;
        }

        string sort = query.TryGetValue("sort", out var so) ? so.ToString() : "start_time_desc";
        if (sort is not ("start_time_desc" or "start_time_asc"))
        {
            await _send.BadRequestAsync(context, "Invalid sort: start_time_desc or start_time_asc.", fault).ConfigureAwait(false);
            return;
        }

        string? wantedStatus = status is { } ws ? TaskPhaseNames.Wire(ws) : null;
        // A lagging listing shows a job only once it is ListLag old.
        DateTimeOffset listedBefore = _engine.Now - _options.Faults.ListLag;
        List<JobState> matching = _engine.Jobs(account)
            .Where(j => j.Created <= listedBefore && (from is null || j.Created >= from) && (to is null || j.Created <= to) && (wantedStatus is null || j.Status(_options.JobStatusRule) == wantedStatus))
            .ToList();
        matching.Sort((a, b) => sort == "start_time_asc" ? a.Created.CompareTo(b.Created) : b.Created.CompareTo(a.Created));
        List<JobState> pageJobs = matching.Skip((int)Math.Min(int.MaxValue, (long)(page - 1) * size)).Take(size).ToList();
        await _send.WriteAsync(context, 200, w => w.List(pageJobs, matching.Count, size, page, _options.JobStatusRule), fault).ConfigureAwait(false);
    }

    private async Task JobAsync(HttpContext context, AccountState account, string jobId, bool cancel, Fault fault)
    {
        if (!Guid.TryParse(jobId, out _))
        {
            await _send.BadRequestAsync(context, "Invalid job ID.", fault).ConfigureAwait(false);
            return;
        }

        JobState? job = _engine.FindJob(account, jobId);
        if (job is null || (!cancel && NotYetReadable(job)))
        {
            await _send.ErrorAsync(context, 404, "Job not found.", fault).ConfigureAwait(false);
            return;
        }

        if (!cancel && _options.Faults.JobGoneAfter is { } goneAfter && _engine.Now - job.Created >= goneAfter)
        {
            Interlocked.Increment(ref _counters.InjectedGone);
            await _send.ErrorAsync(context, 410, "Job is no longer available.", fault).ConfigureAwait(false);
            return;
        }

        if (cancel && !_engine.Cancel(job))
        {
            await _send.ErrorAsync(context, 406, "Job is already finished and cannot be canceled.", fault).ConfigureAwait(false);
            return;
        }

        await _send.WriteAsync(context, 200, w => w.Job(job, _options.JobStatusRule, snapshotFaults: !cancel), fault).ConfigureAwait(false);
    }

    private async Task TaskAsync(HttpContext context, AccountState account, string jobId, string taskId, Fault fault)
    {
        if (!Guid.TryParse(jobId, out _) || !Guid.TryParse(taskId, out _))
        {
            await _send.BadRequestAsync(context, "Invalid job or task ID.", fault).ConfigureAwait(false);
            return;
        }

        JobState? job = _engine.FindJob(account, jobId);
        if (job is null || NotYetReadable(job) || !job.TasksById.TryGetValue(taskId, out TaskState? task))
        {
            await _send.ErrorAsync(context, 404, job is null ? "Job not found." : "Task not found.", fault).ConfigureAwait(false);
            return;
        }

        task.CountFetch();
        if (_engine.Now >= job.ExpiresAt)
        {
            await _send.ErrorAsync(context, 410, "Task response content is no longer available.", fault).ConfigureAwait(false);
            return;
        }

        await _send.WriteAsync(context, 200, w => w.Task(task, _engine.Content), fault).ConfigureAwait(false);
    }

    /// <summary>Read-after-write lag: reads by id 404 until the job is <see cref="FaultOptions.NotFoundAfterCreate"/> old.</summary>
    private bool NotYetReadable(JobState job)
    {
        if (_engine.Now - job.Created >= _options.Faults.NotFoundAfterCreate)
        {
            return false;
        }

        Interlocked.Increment(ref _counters.InjectedNotFound);
        return true;
    }

    private static EmulatorGets GetKind(string[] segments) => segments switch
    {
        ["me"] => EmulatorGets.Account,
        [_] => EmulatorGets.ListJobs,
        [_, _] => EmulatorGets.GetJob,
        _ => EmulatorGets.GetTask,
    };

    private ref long EndpointCounter(string[] segments, string method)
    {
        if (segments is ["me"])
        {
            return ref _counters.MeRequests;
        }

        if (segments.Length == 1)
        {
            return ref method == "POST" ? ref _counters.CreateRequests : ref _counters.ListRequests;
        }

        if (segments.Length == 2)
        {
            return ref method == "DELETE" ? ref _counters.CancelRequests : ref _counters.GetJobRequests;
        }

        return ref _counters.GetTaskRequests;
    }

    private bool RateLimited(AccountState account)
    {
        int limit = _options.Faults.RequestsPerSecondPerToken;
        if (limit <= 0)
        {
            return false;
        }

        long second = _options.TimeProvider.GetUtcNow().ToUnixTimeSeconds();
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

    private static bool TryTime(string text, out DateTimeOffset? value)
    {
        bool ok = DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset parsed);
        value = ok ? parsed : null;
        return ok;
    }
}
