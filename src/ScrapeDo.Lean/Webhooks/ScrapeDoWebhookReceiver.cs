using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using ScrapeDo.Lean.Internal.Http;
using ScrapeDo.Lean.Internal.Json;

namespace ScrapeDo.Lean;

/// <summary>How a webhook delivery was judged.</summary>
public enum WebhookVerdict
{
    /// <summary>The secret matched and the body is a task: answer 200.</summary>
    Accepted,

    /// <summary>The shared secret is missing or wrong: answer 401 and ignore the body.</summary>
    Unauthorized,

    /// <summary>The body is not a task (malformed, too large, missing ids): answer 400.</summary>
    InvalidBody,
}

/// <summary>The result of <see cref="ScrapeDoWebhookReceiver.ReceiveAsync"/>.</summary>
/// <param name="Verdict">Accepted or why not.</param>
/// <param name="Task">The delivered task when accepted.</param>
/// <param name="Problem">Why the delivery was refused, for logs (never contains the secret).</param>
public readonly record struct WebhookReceipt(WebhookVerdict Verdict, TaskDetails? Task, string? Problem)
{
    /// <summary>The HTTP status to answer the sender with: 200, 401 or 400.</summary>
    public int StatusCode => Verdict switch { WebhookVerdict.Accepted => 200, WebhookVerdict.Unauthorized => 401, _ => 400 };
}

/// <summary>
/// Framework-free receiving of Scrape.do webhooks: checks a shared secret the job put in <c>WebhookHeaders</c>
/// (compared in constant time), parses the body into <see cref="TaskDetails"/> with a size limit, and publishes
/// accepted tasks on <see cref="Deliveries"/>, which a <see cref="ScrapeDoRunner"/> can use as a fast path
/// (<see cref="RunOptions.WebhookDeliveries"/>). Plug it into any HTTP server by passing the header lookup and body.
/// </summary>
public sealed class ScrapeDoWebhookReceiver
{
    /// <summary>Default header carrying the shared secret.</summary>
    public const string DefaultSecretHeader = "X-ScrapeDo-Webhook-Secret";

    private readonly byte[] _secret;
    private readonly Channel<TaskDetails> _deliveries;
    private long _dropped;

    /// <summary>Default capacity of <see cref="Deliveries"/>.</summary>
    public const int DefaultMaxQueuedDeliveries = 256;

    /// <summary>Creates a receiver.</summary>
    /// <param name="secret">The shared secret (at least 16 characters; generate one with <see cref="NewSecret"/>).</param>
    /// <param name="secretHeader">The header that carries it.</param>
    /// <param name="maxBodyBytes">Largest body accepted (default 256 MiB: a task can carry a large page).</param>
    /// <param name="maxQueuedDeliveries">Accepted tasks held for the reader of <see cref="Deliveries"/> (default 256);
    /// see <see cref="Deliveries"/> for what happens when it is full.</param>
    public ScrapeDoWebhookReceiver(string secret, string secretHeader = DefaultSecretHeader, long maxBodyBytes = 256L * 1024 * 1024, int maxQueuedDeliveries = DefaultMaxQueuedDeliveries)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(secret);
        ArgumentException.ThrowIfNullOrWhiteSpace(secretHeader);
        if (secret.Length < 16)
        {
            throw new ArgumentException("The webhook secret must be at least 16 characters; use ScrapeDoWebhookReceiver.NewSecret().", nameof(secret));
        }

        if (secret.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            throw new ArgumentException("The webhook secret must not contain CR or LF: it travels as a header.", nameof(secret));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(maxBodyBytes, 1024);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxQueuedDeliveries, 1);
        _secret = Encoding.UTF8.GetBytes(secret);
        SecretHeader = secretHeader;
        MaxBodyBytes = maxBodyBytes;
        // Bounded so that a reader that stalls (or never comes) cannot make memory grow with every delivery: each one
        // may hold a whole page. While full, new deliveries are dropped and counted; the sender still gets 200,
        // because polling, not the webhook, is what guarantees the task's outcome.
        _deliveries = Channel.CreateBounded<TaskDetails>(
            new BoundedChannelOptions(maxQueuedDeliveries) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite },
            _ => Interlocked.Increment(ref _dropped));
        WebhookHeaders = new Dictionary<string, string> { [secretHeader] = secret };
    }

    /// <summary>The header that carries the secret.</summary>
    public string SecretHeader { get; }

    /// <summary>Largest body accepted.</summary>
    public long MaxBodyBytes { get; }

    /// <summary>The <c>WebhookHeaders</c> to put in the job, so Scrape.do sends the secret back.</summary>
    public IReadOnlyDictionary<string, string> WebhookHeaders { get; }

    /// <summary>
    /// Accepted tasks, in arrival order (duplicates included: Scrape.do may deliver a task twice). The channel holds at
    /// most the capacity given at construction; while it is full, newly accepted deliveries are dropped (the ones
    /// already queued keep their order) and counted in <see cref="DroppedDeliveries"/>. A runner loses nothing by a
    /// drop: it still polls every job, and the webhook is only its fast path. A reader that relies on webhooks alone
    /// must keep up, or raise the capacity.
    /// </summary>
    public ChannelReader<TaskDetails> Deliveries => _deliveries.Reader;

    /// <summary>Accepted deliveries dropped because <see cref="Deliveries"/> was full.</summary>
    public long DroppedDeliveries => Interlocked.Read(ref _dropped);

    /// <summary>A random 256-bit secret, URL-safe base64.</summary>
    public static string NewSecret() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>True when <paramref name="presented"/> equals the secret; the comparison time does not depend on where they differ.</summary>
    /// <param name="presented">The value of <see cref="SecretHeader"/> on the request, or null.</param>
    public bool VerifySecret(string? presented)
    {
        if (presented is null)
        {
            return false;
        }

        byte[] bytes = Encoding.UTF8.GetBytes(presented);
        // FixedTimeEquals is constant-time only for equal lengths; a length mismatch reveals just the length.
        return bytes.Length == _secret.Length && CryptographicOperations.FixedTimeEquals(bytes, _secret);
    }

    /// <summary>Parses a webhook body into a task.</summary>
    /// <param name="body">The request body: read to its end (or to the limit), left open; the caller disposes it.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <exception cref="InvalidDataException">The body is not a task or is larger than <see cref="MaxBodyBytes"/>.</exception>
    public ValueTask<TaskDetails> ParseAsync(Stream body, CancellationToken cancellationToken = default) =>
        ParseWithAsync(body, Internal.Runner.TaskDetailsReader.TypeInfo, cancellationToken);

    /// <summary>
    /// Parses a webhook body as <see cref="ParseAsync"/> does (same limit and failures), with the task's content in a
    /// pooled buffer instead of a fresh array: for a receiver that writes each content out and does not keep it.
    /// Dispose the result once the content is written. <see cref="ReceiveAsync"/> and <see cref="Deliveries"/> keep
    /// handing out plain tasks (a queued delivery has no owner to dispose it).
    /// </summary>
    /// <param name="body">The request body: read to its end (or to the limit), left open; the caller disposes it.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <exception cref="InvalidDataException">The body is not a task or is larger than <see cref="MaxBodyBytes"/>.</exception>
    public async ValueTask<LeasedTask> ParseLeasedAsync(Stream body, CancellationToken cancellationToken = default) =>
        LeasedTask.From(await ParseWithAsync(body, Internal.Runner.PooledTaskContent.TypeInfo, cancellationToken).ConfigureAwait(false));

    private async ValueTask<TaskDetails> ParseWithAsync(Stream body, System.Text.Json.Serialization.Metadata.JsonTypeInfo<TaskDetails> typeInfo, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        byte[]? buffer = null;
        try
        {
            // Both readers take the whole task at once: gathered first, it is scanned once instead of again each time a
            // streaming read's buffer grows (IWholeValueReader).
            int size;
            // The caller owns the body (it may rewind it to archive or hash it): read, never closed here.
            await using (var limited = new LengthLimitedReadStream(body, MaxBodyBytes, leaveOpen: true))
            {
                (buffer, size) = await ApiPipeline.ReadWholeAsync(limited, cancellationToken).ConfigureAwait(false);
            }

            return JsonSerializer.Deserialize(buffer.AsSpan(0, size), typeInfo) ?? throw new InvalidDataException("The webhook body is JSON null.");
        }
        catch (ResponseTooLargeException)
        {
            throw new InvalidDataException($"The webhook body is larger than {MaxBodyBytes} bytes.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"The webhook body is not a task: {ex.Message}", ex);
        }
        finally
        {
            if (buffer is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>
    /// Judges one delivery: secret first (a forged request's body is never parsed), then the body. Accepted tasks are
    /// published on <see cref="Deliveries"/>. Answer the sender with <see cref="WebhookReceipt.StatusCode"/>.
    /// </summary>
    /// <param name="getHeader">Looks up a request header by name (null when absent).</param>
    /// <param name="body">The request body: read to its end (or to the limit), left open; the caller disposes it.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    public async ValueTask<WebhookReceipt> ReceiveAsync(Func<string, string?> getHeader, Stream body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(getHeader);
        if (!VerifySecret(getHeader(SecretHeader)))
        {
            return new WebhookReceipt(WebhookVerdict.Unauthorized, null, $"missing or wrong {SecretHeader}");
        }

        TaskDetails task;
        try
        {
            task = await ParseAsync(body, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException ex)
        {
            return new WebhookReceipt(WebhookVerdict.InvalidBody, null, ex.Message);
        }
        catch (IOException ex)
        {
            return new WebhookReceipt(WebhookVerdict.InvalidBody, null, $"the body could not be read: {ex.Message}");
        }

        _deliveries.Writer.TryWrite(task);
        return new WebhookReceipt(WebhookVerdict.Accepted, task, null);
    }

    /// <summary>Ends <see cref="Deliveries"/> (call when the server stops).</summary>
    public void Complete() => _deliveries.Writer.TryComplete();

    /// <summary>Describes the receiver without its secret.</summary>
    public override string ToString() => $"ScrapeDoWebhookReceiver {{ SecretHeader = {SecretHeader} }}";
}
