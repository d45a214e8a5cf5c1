class CreateLabs < ActiveRecord::Migration[7.1]
end
