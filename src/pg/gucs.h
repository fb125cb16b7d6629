// quarry's configuration settings (GUCs). Every setting is defined here, so
// the full list is in one place; the index code reads the variables.
#pragma once

namespace quarry::pg {

/// Defines every quarry.* setting and reserves the "quarry" prefix. Called once
/// from _PG_init.
void DefineGucs();

} // namespace quarry::pg
