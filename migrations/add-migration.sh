#!/usr/bin/env bash
# Adds an EF Core migration to this folder. dotnet-ef places the model snapshot by namespace inside
# the project (dotnet/efcore#24339), so the script moves it back beside the migrations.
# Usage: migrations/add-migration.sh NAME
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: migrations/add-migration.sh NAME}
dotnet tool restore >/dev/null
dotnet ef migrations add "$name" --project src/VirtApi --output-dir ../../migrations --namespace VirtApi.Migrations
if [ -f src/VirtApi/VirtApi/Migrations/VirtApiDbContextModelSnapshot.cs ]; then
  mv src/VirtApi/VirtApi/Migrations/VirtApiDbContextModelSnapshot.cs migrations/
  rm -rf src/VirtApi/VirtApi
fi
rm -rf src/VirtApi/data
