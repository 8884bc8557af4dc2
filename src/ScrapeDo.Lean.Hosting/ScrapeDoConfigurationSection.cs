using Microsoft.Extensions.Configuration;

namespace ScrapeDo.Lean.Hosting;

/// <summary>
/// The keys of a <c>ScrapeDo</c> configuration section. Bound by the configuration-binding source generator (no
/// reflection), then laid over <see cref="ScrapeDoClientOptions"/>: a key that is absent leaves the option as it was,
/// so configuration and code compose. Settings that are objects (clock, transport, logger) come from code or DI.
/// </summary>
internal sealed class ScrapeDoConfigurationSection
{
    public string? Token { get; set; }

    public string? BaseAddress { get; set; }

    public TimeSpan? AttemptTimeout { get; set; }

    public int? MaxConnectionsPerServer { get; set; }

    public long? MaxResponseBytes { get; set; }

    public string? HttpVersion { get; set; }

    public RetrySection? Retry { get; set; }

    internal sealed class RetrySection
    {
        public int? MaxAttempts { get; set; }

        public TimeSpan? BaseDelay { get; set; }

        public TimeSpan? MaxDelay { get; set; }

        public TimeSpan? MaxRetryAfter { get; set; }

        public int? BudgetTokens { get; set; }

        public double? BudgetRefillPerSuccess { get; set; }
    }

    public static void Apply(IConfiguration configuration, ScrapeDoClientOptions options)
    {
        var section = new ScrapeDoConfigurationSection();
        configuration.Bind(section);
        if (section.Token is { } token)
        {
            options.Token = token;
        }

        if (!string.IsNullOrWhiteSpace(section.BaseAddress))
        {
            // Not parsed by the binder, so a bad value gets our message (the validator then checks scheme and host).
            options.BaseAddress = Uri.TryCreate(section.BaseAddress, UriKind.Absolute, out Uri? uri)
                ? uri
                : throw new FormatException($"ScrapeDo:BaseAddress '{section.BaseAddress}' is not an absolute URI, e.g. https://q.scrape.do.");
        }

        if (section.AttemptTimeout is { } timeout)
        {
            options.AttemptTimeout = timeout;
        }

        if (section.MaxConnectionsPerServer is { } connections)
        {
            options.MaxConnectionsPerServer = connections;
        }

        if (section.MaxResponseBytes is { } maxBytes)
        {
            options.MaxResponseBytes = maxBytes;
        }

        if (!string.IsNullOrWhiteSpace(section.HttpVersion))
        {
            options.HttpVersion = Version.TryParse(section.HttpVersion, out Version? version)
                ? version
                : throw new FormatException($"ScrapeDo:HttpVersion '{section.HttpVersion}' is not a version such as 1.1 or 2.0.");
        }

        if (section.Retry is { } retry)
        {
            ScrapeDoRetryOptions current = options.Retry ?? new ScrapeDoRetryOptions();
            options.Retry = new ScrapeDoRetryOptions
            {
                MaxAttempts = retry.MaxAttempts ?? current.MaxAttempts,
                BaseDelay = retry.BaseDelay ?? current.BaseDelay,
                MaxDelay = retry.MaxDelay ?? current.MaxDelay,
                MaxRetryAfter = retry.MaxRetryAfter ?? current.MaxRetryAfter,
                BudgetTokens = retry.BudgetTokens ?? current.BudgetTokens,
                BudgetRefillPerSuccess = retry.BudgetRefillPerSuccess ?? current.BudgetRefillPerSuccess,
            };
        }

    }
}
