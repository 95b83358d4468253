using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Metadata;

namespace VirtApi.Problems;

internal static class ProblemDetailsExtensions
{
    /// <summary>
    /// Problem details for every error: the helper's own answers, bare status codes (404 for an unknown
    /// route, 405 …), unreadable requests and unhandled exceptions all get <c>code</c> and <c>correlationId</c>.
    /// </summary>
    public static IServiceCollection AddApiProblemDetails(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            var problem = context.ProblemDetails;
            var status = problem.Status ?? context.HttpContext.Response.StatusCode;
            if (!problem.Extensions.ContainsKey("code"))
            {
                problem.Extensions["code"] = ProblemCode.ForStatus(status);
                problem.Type = ProblemCode.TypeUri(ProblemCode.ForStatus(status));
            }
            problem.Extensions.Remove("traceId");
            problem.Extensions["correlationId"] = context.HttpContext.TraceIdentifier;
        });
        services.AddExceptionHandler<ApiExceptionHandler>();
        // Minimal APIs answer an unreadable body with a bare 400 unless told to throw; throwing lets
        // ApiExceptionHandler name the offending field.
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        return services;
    }
}

/// <summary>
/// Turns exceptions into problem details. A <see cref="BadHttpRequestException"/> is the client's
/// fault (400, naming the JSON field when there is one); anything else is ours (500, logged with the
/// correlation id, no stack trace in the body).
/// </summary>
internal sealed partial class ApiExceptionHandler(IProblemDetailsService problems, ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        Microsoft.AspNetCore.Mvc.ProblemDetails problem;
        if (exception is BadHttpRequestException bad)
        {
            problem = BadRequestProblem(httpContext, bad);
        }
        else
        {
            LogUnhandled(logger, exception, httpContext.TraceIdentifier, httpContext.Request.Method, httpContext.Request.Path);
            problem = new Microsoft.AspNetCore.Mvc.ProblemDetails
            {
                Status = StatusCodes.Status500InternalServerError,
                Title = "An unexpected error occurred",
                Detail = "The service failed while handling the request; quote the correlationId when reporting it.",
                Type = ProblemCode.TypeUri(ProblemCode.InternalError),
                Extensions = { ["code"] = ProblemCode.InternalError },
            };
        }
        httpContext.Response.StatusCode = problem.Status!.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = exception });
    }

    private static Microsoft.AspNetCore.Mvc.ProblemDetails BadRequestProblem(HttpContext httpContext, BadHttpRequestException bad)
    {
        if (bad.InnerException is JsonException json)
        {
            // The exception-handler middleware clears the endpoint before handlers run; the feature keeps it.
            var endpoint = httpContext.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? httpContext.GetEndpoint();
            var requestType = endpoint?.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType;
            var (field, reason) = JsonFieldError.Describe(json, requestType);
            return new HttpValidationProblemDetails(new Dictionary<string, string[]> { [field] = [reason] })
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "The request is invalid",
                Detail = "One or more fields are invalid; see errors.",
                Type = ProblemCode.TypeUri(ProblemCode.ValidationFailed),
                Extensions = { ["code"] = ProblemCode.ValidationFailed },
            };
        }
        return new Microsoft.AspNetCore.Mvc.ProblemDetails
        {
            Status = bad.StatusCode,
            Title = "The request could not be read",
            Detail = bad.Message,
            Type = ProblemCode.TypeUri(ProblemCode.BadRequest),
            Extensions = { ["code"] = ProblemCode.BadRequest },
        };
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception, correlation id {CorrelationId}, {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string correlationId, string method, PathString path);
}
