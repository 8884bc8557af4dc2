using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using ScrapeDo.Lean.Internal.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.ObjectPool;

namespace ScrapeDo.Lean.Internal.Http;

/// <summary>One API call: what it is, where it goes, and what it is about.</summary>
// SingleAttempt: sent once, never retried, and kept out of the retry budget both ways (a health probe: its failures
// must not spend the retries of the application's own calls, nor its successes refill them).
internal readonly record struct ApiCall(ScrapeDoOperation Operation, HttpMethod Method, Uri Uri, string? JobId = null, string? TaskId = null, bool SingleAttempt = false)
{
    public bool IsCreate => Operation == ScrapeDoOperation.CreateJob;
}

/// <summary>
/// Sends API calls: a fresh request per attempt, a per-attempt timeout that also covers reading the body, JSON read
/// straight from the response stream, errors mapped to <see cref="ScrapeDoException"/>s, and the retry rules of
/// <see cref="ScrapeDoRetryOptions"/>.
/// </summary>
internal sealed class ApiPipeline : IDisposable
{
    private const int ErrorBodyReadLimit = 8 * 1024;

    // Bodies with a Content-Length up to this size are read into one pooled buffer and parsed synchronously, which
    // avoids the serializer's async state and partial-token re-reads; larger or unsized bodies are streamed.
    private const int BufferedBodyLimit = 64 * 1024 * 1024;
    private const int ExcerptChars = 512;
    private const int TrustedLengthStart = 1024 * 1024;

    // An injected HttpClient is used as one; a handler (built-in or injected) is driven through a bare invoker, which
    // skips HttpClient's per-call linked token source and async layer (about 400 bytes a call, measured on GetJob2).
    private readonly HttpMessageInvoker _http;
    private readonly bool _ownsHttp;
    private readonly bool _decodes;
    private readonly string _token;
    private readonly TimeProvider _time;
    private readonly TimeSpan _attemptTimeout;
    private readonly ScrapeDoRetryOptions _retry;
    private readonly RetryBudget _budget;
    private readonly long _maxResponseBytes;
    private readonly Version _version;
    private readonly HttpVersionPolicy _versionPolicy;
    private readonly Func<double> _random;
    private readonly ObjectPool<CancellationTokenSource>? _attemptSources;
    private readonly ILogger _logger;
    private int _disposed;

    public ApiPipeline(ScrapeDoClientOptions options, Func<double>? random = null)
    {
        _token = options.Token!;
        _time = options.TimeProvider;
        _attemptTimeout = options.AttemptTimeout;
        _retry = options.Retry;
        _budget = new RetryBudget(options.Retry.BudgetTokens, options.Retry.BudgetRefillPerSuccess);
        _maxResponseBytes = options.MaxResponseBytes;
        // Major and minor only (validated): "1.1.0" is what HttpClient knows as 1.1.
        _version = new Version(options.HttpVersion.Major, options.HttpVersion.Minor);
        _versionPolicy = options.HttpVersionPolicy;
        _random = random ?? Random.Shared.NextDouble;
        _logger = options.LoggerFactory?.CreateLogger(Log.ClientCategory) ?? NullLogger.Instance;
        if (_attemptTimeout != Timeout.InfiniteTimeSpan)
        {
            // Per-attempt scratch state: a timeout source (with its timer) is reset and reused instead of allocated per call.
            // Sized for the runner's concurrency (16 fetches and the polls of 16 jobs at once by default), not only the
            // core count: on one core a pool of 8 dropped most sources, and each new one cost a source, its timer and
            // its registration list (about 140 bytes a task on the fan-out rig).
            _attemptSources = new DefaultObjectPool<CancellationTokenSource>(new AttemptSourcePolicy(_time), Math.Max(Environment.ProcessorCount * 8, 64));
        }

        if (options.HttpClient is { } client)
        {
            _http = client;
        }
        else
        {
            HttpMessageHandler handler = options.HttpMessageHandler ?? CreateHandler(options.MaxConnectionsPerServer, options.TrustedServerCertificate);
            _decodes = options.HttpMessageHandler is null;
            _http = new HttpMessageInvoker(handler, disposeHandler: options.HttpMessageHandler is null);
            _ownsHttp = true;
        }
    }

    /// <summary>Counts every HTTP attempt sent (for requests-per-target figures).</summary>
    public long AttemptsSent => Interlocked.Read(ref _attemptsSent);

    private long _attemptsSent;

    /// <summary>Counts retries decided on (each followed by a backoff wait).</summary>
    public long RetriesScheduled => Interlocked.Read(ref _retriesScheduled);

    private long _retriesScheduled;
    private long _transientFailures;
    private string? _lastFailureReason;

    /// <summary>Attempts that failed in a way a retry may pass (network, timeout, 408/429/5xx), retried or not.</summary>
    public long TransientFailures => Interlocked.Read(ref _transientFailures);

    /// <summary>Why the last such attempt failed ("network error", "HTTP 503" …; one of a few constant texts), or null.</summary>
    public string? LastFailureReason => Volatile.Read(ref _lastFailureReason);

    internal static SocketsHttpHandler CreateHandler(int maxConnectionsPerServer, System.Security.Cryptography.X509Certificates.X509Certificate2? trusted = null)
    {
        SocketsHttpHandler handler = CreateHandler(maxConnectionsPerServer);
        if (trusted is not null)
        {
            byte[] pinned = trusted.GetCertHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
            // The usual validation first; only a certificate that failed it and is byte-for-byte the pinned one passes.
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                errors == System.Net.Security.SslPolicyErrors.None
                || (certificate is not null && certificate.GetCertHash(System.Security.Cryptography.HashAlgorithmName.SHA256).AsSpan().SequenceEqual(pinned));
        }

        return handler;
    }

    private static SocketsHttpHandler CreateHandler(int maxConnectionsPerServer) => new()
    {
        MaxConnectionsPerServer = maxConnectionsPerServer,
        // Recycled so DNS changes are picked up on a process that polls for days.
        PooledConnectionLifetime = TimeSpan.FromMinutes(10),
        // Longer than the slowest poll interval, so a poll cycle reuses its connections instead of reconnecting.
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
        ConnectTimeout = TimeSpan.FromSeconds(10),
        AllowAutoRedirect = false,
        UseCookies = false,
        EnableMultipleHttp2Connections = true,
        // No AutomaticDecompression: setting it at all roots every codec, and the pipeline decodes more cheaply
        // (ResponseDecoding, under a feature switch).
    };

    public Task<T> SendAsync<T>(ApiCall call, ReadOnlyMemory<byte> body, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken) =>
        SendPooledAsync(call, body, typeInfo, cancellationToken).AsTask();

    /// <summary>
    /// <see cref="SendAsync{T}"/> for a caller that awaits the result exactly once (the runner's fetch workers): the
    /// call's state machine comes from a pool instead of a new box of about 300 bytes per call.
    /// </summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<T> SendPooledAsync<T>(ApiCall call, ReadOnlyMemory<byte> body, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        for (int attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ScrapeDoException failure;
            bool retryable;
            TimeSpan? retryAfter = null;

            CancellationTokenSource attemptCts = RentAttemptSource();
            bool answered = false;
            try
            {
                using CancellationTokenRegistration link = cancellationToken.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), attemptCts);
                try
                {
                    using HttpRequestMessage request = CreateRequest(call, body);
                    Interlocked.Increment(ref _attemptsSent);
                    Telemetry.Requests.Add(1);
                    using HttpResponseMessage response = await (_http is HttpClient client
                        ? client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, attemptCts.Token)
                        : _http.SendAsync(request, attemptCts.Token)).ConfigureAwait(false);
                    answered = true;
                    if (response.IsSuccessStatusCode)
                    {
                        T value = await ReadBodyAsync(response, typeInfo, attemptCts.Token).ConfigureAwait(false);
                        if (!call.SingleAttempt)
                        {
                            _budget.RecordSuccess();
                        }

                        return value;
                    }

                    retryAfter = GetRetryAfter(response);
                    if (response.StatusCode == HttpStatusCode.TooManyRequests)
                    {
                        Telemetry.RateLimited.Add(1);
                        Log.RateLimited(_logger, call.Operation, attempt, retryAfter is { } hint ? (long)hint.TotalMilliseconds : -1);
                    }

                    failure = await CreateStatusExceptionAsync(call, response, retryAfter, attempt, attemptCts.Token).ConfigureAwait(false);
                    // Credits exhausted is final: retrying only repeats the refusal (issue 16).
                    retryable = IsRetryableStatus(response.StatusCode, call.IsCreate) && !Credits.OutOfCredits.Matches(failure);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    throw new OperationCanceledException($"{Describe(call)} was canceled by the caller.", null, cancellationToken);
                }
                catch (OperationCanceledException ex)
                {
                    // Not ours when there is no attempt timeout, or it has not run out: an injected HttpClient's own
                    // Timeout (or a handler of the caller's) gave up, and the message must not name a limit that did not.
                    failure = new ScrapeDoTimeoutException(
                        attemptCts.IsCancellationRequested
                            ? $"{Describe(call)} did not complete within the attempt timeout of {_attemptTimeout.TotalSeconds:0.###} s (attempt {attempt})."
                            : $"{Describe(call)} timed out in the HTTP stack (an injected HttpClient's Timeout or a handler; attempt {attempt}).",
                        call.Operation, _attemptTimeout, call.JobId, call.TaskId, attempt, ex)
                    { CreateOutcomeUnknown = call.IsCreate };
                    retryable = !call.IsCreate;
                }
                catch (HttpRequestException ex) when (ex.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError)
                {
                    // Nothing reached the server, so even a create can be sent again.
                    failure = Transport(call, attempt, ex, createOutcomeUnknown: false);
                    retryable = true;
                }
                // Also what a handler of the caller's throws before any answer on its own terms (a resilience pipeline's
                // open circuit or its own timeout): a failure of the HTTP stack like a network one. A read is tried
                // again; a create may have been sent. (A handler's refusal of a setting is the clause further down.)
                catch (Exception ex) when (ex is HttpRequestException or IOException
                    || (!answered && ex is not (InvalidOperationException or NotSupportedException or ResponseTooLargeException or OutOfMemoryException)))
                {
                    failure = Transport(call, attempt, ex, createOutcomeUnknown: call.IsCreate);
                    retryable = !call.IsCreate;
                }
                catch (ResponseTooLargeException ex)
                {
                    failure = Malformed(call, HttpStatusCode.OK, ex.Message, attempt, ex);
                    retryable = false;
                }
                catch (Exception ex) when (!answered && ex is InvalidOperationException or NotSupportedException)
                {
                    // Refused by the handler before a request existed (a setting it does not take, such as an injected
                    // handler's own rules): nothing reached the server, so it is neither "HTTP 200" nor a create that may
                    // have been made, and trying again would only be refused again.
                    failure = new ScrapeDoTransportException($"{Describe(call)} could not be sent: {Scrub(ex.Message)} Nothing reached the server.", call.Operation, call.JobId, call.TaskId, attempt, ex)
                    {
                        RefusedBeforeSending = true,
                    };
                    retryable = false;
                }
                catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException or NotSupportedException or InvalidDataException)
                {
                    failure = Malformed(call, HttpStatusCode.OK, $"the response body is not the expected JSON ({Scrub(WithPath(ex))})", attempt, ex);
                    retryable = false;
                }
            }
            finally
            {
                ReturnAttemptSource(attemptCts);
            }

            if (retryable)
            {
                // Counted whether or not this call retries it: once the retry budget is spent, calls fail at once and
                // only the runner's own persistence keeps trying, and an outage must still be visible.
                Volatile.Write(ref _lastFailureReason, RetryReason(failure));
                Interlocked.Increment(ref _transientFailures);
            }

            if (!retryable || call.SingleAttempt || attempt >= _retry.MaxAttempts || !TryGetDelay(attempt, retryAfter, out TimeSpan delay) || !_budget.TryWithdraw())
            {
                if (failure.CreateOutcomeUnknown)
                {
                    Log.CreateOutcomeUnknown(_logger, attempt, failure);
                }

                throw failure;
            }

            Log.RetryScheduled(_logger, call.Operation, attempt, RetryReason(failure), (long)delay.TotalMilliseconds);

            // The timer is registered before the count moves, so an observer of the count can advance a fake clock safely.
            Task wait = Task.Delay(delay, _time, cancellationToken);
            Interlocked.Increment(ref _retriesScheduled);
            Telemetry.Retries.Add(1);
            await wait.ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0 && _ownsHttp)
        {
            _http.Dispose();
        }
    }

    /// <summary>Why an attempt is retried, as a constant string: a log argument that costs nothing when the level is off.</summary>
    private static string RetryReason(ScrapeDoException failure) => failure switch
    {
        ScrapeDoTimeoutException => "attempt timeout",
        ScrapeDoTransportException => "network error",
        ScrapeDoApiException { StatusCode: var status } => (int)status switch
        {
            408 => "HTTP 408",
            429 => "HTTP 429",
            500 => "HTTP 500",
            502 => "HTTP 502",
            503 => "HTTP 503",
            504 => "HTTP 504",
            _ => "HTTP error",
        },
        _ => "error",
    };

    internal static bool IsRetryableStatus(HttpStatusCode status, bool isCreate) => (int)status switch
    {
        408 or 429 or 503 => true,
        // A 500 can come after the job was committed, and a gateway error speaks for an upstream that may already
        // have created it: neither proves the server did nothing, so a create is never replayed on them.
        500 or 502 or 504 => !isCreate,
        _ => false,
    };

    private bool TryGetDelay(int attempt, TimeSpan? retryAfter, out TimeSpan delay)
    {
        delay = Backoff.FullJitter(attempt, _retry.BaseDelay, _retry.MaxDelay, _random());
        if (retryAfter is { } hint)
        {
            if (hint > _retry.MaxRetryAfter)
            {
                return false;
            }

            if (hint > delay)
            {
                delay = hint;
            }
        }

        return true;
    }

    private CancellationTokenSource RentAttemptSource()
    {
        if (_attemptSources is null)
        {
            return new CancellationTokenSource();
        }

        CancellationTokenSource source = _attemptSources.Get();
        source.CancelAfter(_attemptTimeout);
        return source;
    }

    private void ReturnAttemptSource(CancellationTokenSource source)
    {
        // Only after the caller-token link is gone: a reset source must never be canceled by its previous call.
        if (_attemptSources is null)
        {
            source.Dispose();
        }
        else
        {
            _attemptSources.Return(source);
        }
    }

    private sealed class AttemptSourcePolicy(TimeProvider time) : PooledObjectPolicy<CancellationTokenSource>
    {
        public override CancellationTokenSource Create() => new(Timeout.InfiniteTimeSpan, time);

        public override bool Return(CancellationTokenSource obj)
        {
            // A source that fired (timeout or caller cancel) cannot be reused.
            if (obj.TryReset())
            {
                return true;
            }

            obj.Dispose();
            return false;
        }
    }

    private HttpRequestMessage CreateRequest(ApiCall call, ReadOnlyMemory<byte> body)
    {
        var request = new HttpRequestMessage(call.Method, call.Uri) { Version = _version, VersionPolicy = _versionPolicy };
        request.Headers.TryAddWithoutValidation("X-Token", _token);
        if (FeatureSwitches.IsAutomaticDecompressionSupported && _decodes)
        {
            request.Headers.TryAddWithoutValidation("Accept-Encoding", ResponseDecoding.AcceptEncoding);
        }
        if (!body.IsEmpty)
        {
            // The same pooled bytes back every attempt; only the message wrapper is new.
            var content = new ReadOnlyMemoryContent(body);
            content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
            request.Content = content;
        }

        return request;
    }

    private async ValueTask<T> ReadBodyAsync<T>(HttpResponseMessage response, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
    {
        long? length = response.Content.Headers.ContentLength;
        Stream stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        if (FeatureSwitches.IsAutomaticDecompressionSupported && _decodes && ResponseDecoding.Decode(response, stream) is var decoded && decoded != stream)
        {
            // A compressed length says nothing about the decoded size: stream it through the limit instead.
            (stream, length) = (decoded, null);
        }

        if (length > _maxResponseBytes)
        {
            throw new ResponseTooLargeException(_maxResponseBytes);
        }

        var direct = typeInfo.Converter as IBufferedBodyReader<T>;
        byte[]? buffer;
        int size;
        if (length is long known && known <= BufferedBodyLimit)
        {
            // The length is the server's word: only its first TrustedLengthStart bytes are reserved before they arrive
            // (ReadRestAsync takes the rest), so an answer that claims 64 MiB and sends 60 bytes holds 1 MiB while it
            // stalls, not 64. Every poll and task fetch fits in the first read, in this call's own state machine.
            size = (int)known;
            int first = Math.Min(size, TrustedLengthStart);
            buffer = ArrayPool<byte>.Shared.Rent(Math.Max(first, 1));
            try
            {
                int read = await stream.ReadAtLeastAsync(buffer.AsMemory(0, first), first, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                if (read == first && size > first)
                {
                    (buffer, read) = await ReadRestAsync(stream, buffer, read, size, cancellationToken).ConfigureAwait(false);
                }

                if (read < size)
                {
                    throw new HttpIOException(HttpRequestError.ResponseEnded, $"The response ended after {read} of its {size} bytes.");
                }
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(buffer);
                throw;
            }
        }
        else if (typeInfo.Converter is IWholeValueReader)
        {
            // No length, but a reader that wants the whole body (the runner's poll keeps it as its memo) or takes the
            // whole value at once (a Go server sends a large body chunked, and a compressed one has no decoded length):
            // gather it into a pooled buffer, counted against the limit as it streams. The serializer would buffer the
            // whole value for it anyway, rescanning it as it grows (IWholeValueReader).
            await using Stream limited = new LengthLimitedReadStream(stream, _maxResponseBytes);
            (buffer, size) = await ReadWholeAsync(limited, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            // No length (chunked or decompressed): count while streaming so an endless body or a gzip bomb stops at the limit.
            await using Stream body = new LengthLimitedReadStream(stream, _maxResponseBytes);
            return await JsonSerializer.DeserializeAsync(body, typeInfo, cancellationToken).ConfigureAwait(false)
                ?? throw new JsonException("The response body is JSON null.");
        }

        T? value;
        try
        {
            if (direct is not null)
            {
                value = direct.Read(buffer, size, out bool kept);
                buffer = kept ? null : buffer;
            }
            else
            {
                value = JsonSerializer.Deserialize(buffer.AsSpan(0, size), typeInfo);
            }
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        return value ?? throw new JsonException("The response body is JSON null.");
    }

    /// <summary>
    /// The rest of a body longer than <see cref="TrustedLengthStart"/>, once that much has come: taken in one step into
    /// a buffer of the stated size (a large page costs one extra copy of 1 MiB, not a doubling series). Returns the
    /// new buffer and what it holds; <paramref name="start"/> goes back to the pool only then (on a failure the caller
    /// still owns it).
    /// </summary>
    private static async ValueTask<(byte[] Buffer, int Read)> ReadRestAsync(Stream stream, byte[] start, int read, int size, CancellationToken cancellationToken)
    {
        byte[] whole = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            start.AsSpan(0, read).CopyTo(whole);
            read += await stream.ReadAtLeastAsync(whole.AsMemory(read, size - read), size - read, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(whole);
            throw;
        }

        ArrayPool<byte>.Shared.Return(start);
        return (whole, read);
    }

    /// <summary>Reads <paramref name="body"/> to its end into one buffer rented from the shared pool (the caller returns it).</summary>
    internal static async ValueTask<(byte[] Buffer, int Size)> ReadWholeAsync(Stream body, CancellationToken cancellationToken)
    {
        var gathered = new PooledBufferWriter(16 * 1024);
        try
        {
            while (true)
            {
                Memory<byte> free = gathered.GetMemory();
                if (free.IsEmpty)
                {
                    // A limit set past the largest array: stop here rather than read 0 bytes and parse a cut body.
                    throw new ResponseTooLargeException(Array.MaxLength);
                }

                int read = await body.ReadAsync(free, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                gathered.Advance(read);
            }

            return gathered.Detach();
        }
        catch
        {
            gathered.Dispose();
            throw;
        }
    }

    private async Task<ScrapeDoApiException> CreateStatusExceptionAsync(ApiCall call, HttpResponseMessage response, TimeSpan? retryAfter, int attempt, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ErrorBodyReadLimit);
        try
        {
            int read = 0;
            try
            {
                Stream stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                if (FeatureSwitches.IsAutomaticDecompressionSupported && _decodes)
                {
                    stream = ResponseDecoding.Decode(response, stream);
                }

                await using (stream.ConfigureAwait(false))
                {
                    int n;
                    while (read < ErrorBodyReadLimit && (n = await stream.ReadAsync(buffer.AsMemory(read, ErrorBodyReadLimit - read), cancellationToken).ConfigureAwait(false)) > 0)
                    {
                        read += n;
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException)
            {
                // The status line already says what matters; a broken error body only loses the details.
            }

            ReadOnlySpan<byte> bytes = buffer.AsSpan(0, read);
            (string? errorText, int? code) = TryParseErrorBody(bytes);
            // Control characters go, as in the excerpt: the text lands in exception messages, logs and the CLI's one-line
            // errors, where a CR/LF could forge a line and an escape sequence could drive the reader's terminal.
            errorText = errorText is null ? null : Scrub(WithoutControls(errorText));
            string? excerpt = read == 0 ? null : Excerpt(bytes);
            var status = response.StatusCode;
            string detail = errorText ?? (excerpt is null ? "no error body" : "the error body is not the documented {\"Error\",\"Code\"} JSON");
            string message = $"{Describe(call)} failed with HTTP {(int)status}{(HttpStatusText.NameOf(status) is { } name ? " " + name : string.Empty)}: {detail}{(code is int c ? $" (Code {c})" : string.Empty)} after {attempt} attempt(s).";
            return new ScrapeDoApiException(message, call.Operation, status, code, errorText, retryAfter, excerpt, call.JobId, call.TaskId, attempt)
            {
                CreateOutcomeUnknown = call.IsCreate && (int)status is 500 or 502 or 504,
            };
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static (string? Error, int? Code) TryParseErrorBody(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return (null, null);
        }

        try
        {
            ApiErrorBody? body = JsonSerializer.Deserialize(bytes, ScrapeDoJsonContext.Default.ApiErrorBody);
            return (body?.Error, body?.Code);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            return (null, null);
        }
    }

    private TimeSpan? GetRetryAfter(HttpResponseMessage response)
    {
        RetryConditionHeaderValue? header = response.Headers.RetryAfter;
        if (header is null)
        {
            return null;
        }

        if (header.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (header.Date is { } date)
        {
            TimeSpan wait = date - _time.GetUtcNow();
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        return null;
    }

    private ScrapeDoTransportException Transport(ApiCall call, int attempt, Exception ex, bool createOutcomeUnknown) =>
        new($"{Describe(call)} failed at the network level after {attempt} attempt(s): {Scrub(ex.Message)}{(createOutcomeUnknown ? " It is unknown whether the job was created; reconcile before resubmitting." : string.Empty)}",
            call.Operation, call.JobId, call.TaskId, attempt, ex)
        { CreateOutcomeUnknown = createOutcomeUnknown };

    private ScrapeDoApiException Malformed(ApiCall call, HttpStatusCode status, string detail, int attempt, Exception ex) =>
        new($"{Describe(call)} returned HTTP {(int)status} but {detail}.", call.Operation, status, null, null, null, null, call.JobId, call.TaskId, attempt, ex)
        {
            // A 200 to a create means a job exists even though its id could not be read.
            CreateOutcomeUnknown = call.IsCreate,
        };

    // The serializer writes the member's path into its own messages only: a converter's refusal (a number member that
    // came as a string) would otherwise not say which member it was.
    private static string WithPath(Exception ex) =>
        ex is JsonException { Path: { Length: > 1 } path } && !ex.Message.Contains(" Path: ", StringComparison.Ordinal)
            ? $"{ex.Message} Path: {path}."
            : ex.Message;

    private static string Describe(ApiCall call) => call switch
    {
        { JobId: not null, TaskId: not null } => $"Scrape.do {call.Operation} (job {call.JobId}, task {call.TaskId})",
        { JobId: not null } => $"Scrape.do {call.Operation} (job {call.JobId})",
        _ => $"Scrape.do {call.Operation}",
    };

    private string Excerpt(ReadOnlySpan<byte> bytes)
    {
        // Scrubbed whole (at most ErrorBodyReadLimit bytes), then cut: cut first, a token an echoing proxy put across
        // the cut would no longer be whole and its first characters would stay in the excerpt.
        string text = Scrub(Encoding.UTF8.GetString(bytes));
        if (text.Length > ExcerptChars)
        {
            text = text[..ExcerptChars];
        }

        return WithoutControls(text);
    }

    private static string WithoutControls(string text)
    {
        int first = 0;
        while (first < text.Length && !IsUnprintable(text[first]))
        {
            first++;
        }

        if (first == text.Length)
        {
            return text;
        }

        char[] chars = text.ToCharArray();
        for (int i = first; i < chars.Length; i++)
        {
            if (IsUnprintable(chars[i]))
            {
                chars[i] = ' ';
            }
        }

        return new string(chars);
    }

    // Control characters (C0, DEL, C1: char.IsControl), the line and paragraph separators, and the bidirectional
    // overrides and isolates (which can make a terminal show text in another order than it is written). A plain loop:
    // the text is a short excerpt, and the SearchValues and string.Create form it replaces made the AOT size probe
    // 4,160 bytes larger (.ci/size-probe, 2026-12-07).
    private static bool IsUnprintable(char c) =>
        char.IsControl(c) || c is '\u2028' or '\u2029' or (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069');

    /// <summary>A server (or anything between) might echo the request headers; the token never leaves in our text.</summary>
    private string Scrub(string text) => TokenScrubber.Scrub(text, _token);
}
