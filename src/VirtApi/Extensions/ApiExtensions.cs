using System.Text.Json;
using System.Text.Json.Serialization;
using VirtApi.Problems;

namespace VirtApi.Extensions;

internal static class ApiExtensions
{
    /// <summary>JSON conventions, problem details and the OpenAPI document.</summary>
    public static WebApplicationBuilder AddApiDefaults(this WebApplicationBuilder builder)
    {
        builder.Services.ConfigureHttpJsonOptions(options =>
        {
            // DESIGN.md: camelCase names, enums as kebab-case strings; numbers are not accepted for
            // enums, and a field the contract does not have is a 400 (a misspelt field must not be ignored).
            options.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
            options.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false));
            options.SerializerOptions.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
            options.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
        });
        builder.Services.AddApiProblemDetails();
        builder.Services.AddOpenApi(options => options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "VirtApi";
            document.Info.Description = "Virtualization as a service: define VMs, boot them on an emulated RISC-V machine under a chosen technique, and read what the hypervisor did.";
            return Task.CompletedTask;
        }));
        return builder;
    }

    /// <summary>Error handling first, then the OpenAPI document and Swagger UI.</summary>
    public static WebApplication UseApiDefaults(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapOpenApi("/openapi/{documentName}.json");
        app.UseSwaggerUI(options =>
        {
            options.SwaggerEndpoint("/openapi/v1.json", "VirtApi v1");
            options.RoutePrefix = "swagger";
            options.DocumentTitle = "VirtApi";
        });
        return app;
    }
}
