using System.Net;
using ScrapeDo.Lean.Internal;

namespace ScrapeDo.Lean.Emulator.Internal;

/// <summary>
/// Delivers one POST of the task details per terminal task to the job's <c>WebhookURL</c>, with its
/// <c>WebhookHeaders</c>. Only loopback URLs are called; any other is marked <c>failed</c> without a request.
/// </summary>
internal sealed class WebhookDispatcher : IAsyncDisposable
{
    private readonly WebhookOptions _options;
    private readonly TimeProvider _time;
    private readonly EmulatorCounters _counters;
    private readonly HttpClient _http;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentTaskSet _running = new();
    private ContentGenerator? _content;

    public WebhookDispatcher(WebhookOptions options, TimeProvider time, EmulatorCounters counters)
    {
        _options = options;
        _time = time;
        _counters = counters;
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, UseProxy = false, ConnectTimeout = TimeSpan.FromSeconds(5) })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public void Attach(ContentGenerator content) => _content = content;

    public void Enqueue(TaskState task)
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        task.WebhookStatus = "pending";
        _running.Track(Task.Run(() => DeliverAsync(task)));
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _running.WhenAllAsync().ConfigureAwait(false);
        _http.Dispose();
        _stopping.Dispose();
    }

    private async Task DeliverAsync(TaskState task)
    {
        string url = task.Job.Request.WebhookUrl!;
        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) || !IsLoopback(uri))
        {
            Fail(task);
            return;
        }

        int ladderStep = 0;
        bool goneRetried = false;
        CancellationToken stop = _stopping.Token;
        try
        {
            while (true)
            {
                HttpStatusCode? status = await AttemptAsync(task, uri, stop).ConfigureAwait(false);
                if (status is { } s && (int)s is >= 200 and < 300)
                {
                    task.WebhookStatus = "success";
                    Interlocked.Increment(ref _counters.WebhookDelivered);
                    return;
                }

                TimeSpan wait;
                if (status is HttpStatusCode.NotFound or HttpStatusCode.Gone)
                {
                    if (goneRetried)
                    {
                        break;
                    }

                    goneRetried = true;
                    wait = _options.GoneRetryDelay;
                }
                else if (status is null || (int)status >= 500)
                {
                    if (ladderStep >= _options.RetryLadder.Count)
                    {
                        break;
                    }

                    wait = _options.RetryLadder[ladderStep++];
                }
                else
                {
                    break;
                }

                await Task.Delay(wait, _time, stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return;
        }

        Fail(task);
    }

    private async Task<HttpStatusCode?> AttemptAsync(TaskState task, Uri uri, CancellationToken stop)
    {
        Interlocked.Increment(ref _counters.WebhookAttempts);
        task.WebhookRequestTime = _time.GetUtcNow();
        ResponseWriter writer = ResponseWriter.Rent();
        try
        {
            writer.Task(task, _content!);
            writer.Flush();
            using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ReadOnlyMemoryContent(writer.Written) };
            request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
            foreach ((string name, string value) in task.Job.Request.WebhookHeaders)
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
            timeout.CancelAfter(_options.AttemptTimeout);
            using HttpResponseMessage response = await _http.SendAsync(request, timeout.Token).ConfigureAwait(false);
            return response.StatusCode;
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            return null;
        }
        catch (HttpRequestException)
        {
            return null;
        }
        finally
        {
            ResponseWriter.Return(writer);
        }
    }

    private void Fail(TaskState task)
    {
        task.WebhookStatus = "failed";
        Interlocked.Increment(ref _counters.WebhookFailed);
    }

    private static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || (IPAddress.TryParse(uri.DnsSafeHost, out IPAddress? ip) && IPAddress.IsLoopback(ip));
}
