using Microsoft.Extensions.Options;

namespace ScrapeDo.Lean.Hosting;

/// <summary>Start-up validation with exactly the messages the client constructor would throw.</summary>
internal sealed class ScrapeDoOptionsValidator : IValidateOptions<ScrapeDoClientOptions>
{
    public ValidateOptionsResult Validate(string? name, ScrapeDoClientOptions options)
    {
        try
        {
            options.Validate();
            return ValidateOptionsResult.Success;
        }
        catch (ArgumentException ex)
        {
            return ValidateOptionsResult.Fail(ex.Message);
        }
    }
}

/// <summary>The options name under which a registered <see cref="RunOptions"/> is checked when the host starts.</summary>
internal sealed class RunOptionsCheck;

/// <summary>
/// Checks the registered <see cref="RunOptions"/> (if any) when the host starts, with the messages the runner's
/// constructor would throw: otherwise a bad value surfaces only when <see cref="ScrapeDoRunner"/> is first resolved,
/// typically inside a background service after the host reported it had started.
/// </summary>
internal sealed class RunOptionsValidator(IServiceProvider services) : IValidateOptions<RunOptionsCheck>
{
    public ValidateOptionsResult Validate(string? name, RunOptionsCheck options)
    {
        try
        {
            (services.GetService(typeof(RunOptions)) as RunOptions)?.Validate();
            return ValidateOptionsResult.Success;
        }
        catch (ArgumentException ex)
        {
            return ValidateOptionsResult.Fail(ex.Message);
        }
    }
}
